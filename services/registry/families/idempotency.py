"""Idempotency keys of the registry's creating endpoints (the mechanism is shared/http/idempotency.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.families.models import idempotency_key
from shared.http import idempotency
from shared.http.idempotency import request_hash as request_hash


async def stored_response(
    session: AsyncSession, *, subject: str, key: str, endpoint: str, fingerprint: str
) -> tuple[int, dict[str, Any]] | None:
    """The response stored for this key in the registry, None if new."""
    return await idempotency.stored_response(
        session, idempotency_key, subject=subject, key=key, endpoint=endpoint, fingerprint=fingerprint
    )


async def remember(session: AsyncSession, **values: Any) -> None:
    """Store the response in the registry's table, in the request's transaction."""
    await idempotency.remember(session, idempotency_key, **values)
