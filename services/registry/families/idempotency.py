"""Idempotency keys on creating endpoints: the same key and body give the stored response, never a second record."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.families.models import idempotency_key
from shared.events.envelope import utcnow
from shared.http.problems import ProblemError


def request_hash(endpoint: str, body: Any) -> str:
    """A stable fingerprint of the request (endpoint + canonical JSON body)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{endpoint}\n{canonical}".encode()).hexdigest()


async def stored_response(
    session: AsyncSession, *, subject: str, key: str, endpoint: str, fingerprint: str
) -> tuple[int, dict[str, Any]] | None:
    """The response stored for this key, None if new; 422 if the key was used for a different request."""
    row = (
        await session.execute(
            select(idempotency_key).where(idempotency_key.c.subject == subject, idempotency_key.c.key == key)
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != fingerprint or row.endpoint != endpoint:
        raise ProblemError(
            422,
            "This Idempotency-Key was already used for a different request.",
            code="idempotency_key_reused",
            errors=[{"field": "Idempotency-Key", "reason": "idempotency_key.reused"}],
        )
    return int(row.status_code), dict(row.response)


async def remember(
    session: AsyncSession,
    *,
    subject: str,
    key: str,
    endpoint: str,
    fingerprint: str,
    status_code: int,
    response: dict[str, Any],
) -> None:
    """Store the response in the same transaction as the record it created."""
    try:
        async with session.begin_nested():
            await session.execute(
                insert(idempotency_key).values(
                    subject=subject,
                    key=key,
                    endpoint=endpoint,
                    request_hash=fingerprint,
                    status_code=status_code,
                    response=response,
                    created_at=utcnow(),
                )
            )
    except IntegrityError:
        # A concurrent request with the same key won the race; this one rolls back as a whole.
        raise ProblemError(
            409, "A request with this Idempotency-Key is being processed; retry later.", code="idempotency_in_progress"
        ) from None
