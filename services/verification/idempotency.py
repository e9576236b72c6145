"""Idempotency keys of verification's creating endpoints (visits, sanggah): a retried request from a field officer's
phone gets the first answer back instead of a conflict or a second record. The mechanism is shared/http."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification.database import metadata
from shared.auth.principal import Principal
from shared.http import idempotency

idempotency_key = idempotency.idempotency_table(metadata)

Out = TypeVar("Out", bound=BaseModel)


async def replayed(
    session: AsyncSession, *, principal: Principal, key: str | None, endpoint: str, body: Any
) -> tuple[int, dict[str, Any]] | None:
    """The stored answer to this key (the same request sent again), or None for a new request."""
    if not key:
        return None
    return await idempotency.stored_response(
        session,
        idempotency_key,
        subject=principal.subject,
        key=key,
        endpoint=endpoint,
        fingerprint=idempotency.request_hash(endpoint, body),
    )


async def remember(
    session: AsyncSession,
    *,
    principal: Principal,
    key: str | None,
    endpoint: str,
    body: Any,
    status_code: int,
    response: BaseModel,
) -> None:
    """Keep the answer under the key, in the transaction that made the record."""
    if key:
        await idempotency.remember(
            session,
            idempotency_key,
            subject=principal.subject,
            key=key,
            endpoint=endpoint,
            fingerprint=idempotency.request_hash(endpoint, body),
            status_code=status_code,
            response=response.model_dump(mode="json"),
        )


async def once(
    session: AsyncSession,
    *,
    principal: Principal,
    key: str | None,
    endpoint: str,
    body: BaseModel,
    status_code: int,
    create: Callable[[], Awaitable[Out]],
) -> Out | JSONResponse:
    """Run `create` unless this key already made the record: then replay the first answer (`Idempotent-Replayed`)."""
    payload = body.model_dump(mode="json")
    replay = await replayed(session, principal=principal, key=key, endpoint=endpoint, body=payload)
    if replay is not None:
        return JSONResponse(replay[1], status_code=replay[0], headers={"Idempotent-Replayed": "true"})
    out = await create()
    await remember(
        session,
        principal=principal,
        key=key,
        endpoint=endpoint,
        body=payload,
        status_code=status_code,
        response=out,
    )
    return out
