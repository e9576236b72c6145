"""Idempotency keys on creating endpoints: the same key and body give the stored response, never a second record.

Each service keeps its own table (`idempotency_table`), written in the same transaction as the record the request
created, so a retry after a lost response (a field officer's phone on a patchy network) finds the first answer."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import Header
from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.envelope import utcnow
from shared.http.params import PRINTABLE
from shared.http.problems import ProblemError

HEADER = "Idempotency-Key"
# The header of a creating request; a client makes one key per record it means to create and reuses it on retry.
IdempotencyKey = Annotated[str | None, Header(alias=HEADER, max_length=200, pattern=PRINTABLE)]


def idempotency_table(metadata: MetaData) -> Table:
    """The idempotency-key table of one service's schema."""
    return Table(
        "idempotency_key",
        metadata,
        Column("subject", String(200), primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("endpoint", String(200), nullable=False),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("response", JSON, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )


def request_hash(endpoint: str, body: Any) -> str:
    """A stable fingerprint of the request (endpoint + canonical JSON body)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{endpoint}\n{canonical}".encode()).hexdigest()


async def stored_response(
    session: AsyncSession, table: Table, *, subject: str, key: str, endpoint: str, fingerprint: str
) -> tuple[int, dict[str, Any]] | None:
    """The response stored for this key, None if new; 422 if the key was used for a different request."""
    row = (await session.execute(select(table).where(table.c.subject == subject, table.c.key == key))).first()
    if row is None:
        return None
    if row.request_hash != fingerprint or row.endpoint != endpoint:
        raise ProblemError(
            422,
            "This Idempotency-Key was already used for a different request.",
            code="idempotency_key_reused",
            errors=[{"field": HEADER, "reason": "idempotency_key.reused"}],
        )
    return int(row.status_code), dict(row.response)


async def remember(
    session: AsyncSession,
    table: Table,
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
                insert(table).values(
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
