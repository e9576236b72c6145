"""HTTP API of data-quality flags: list in scope, confirm, refute."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.registry.families.router import actor_of
from services.registry.flags.rules import FlagKind, FlagStatus
from services.registry.flags.schemas import FlagOut, FlagPage, Resolution
from services.registry.flags.service import flag_page, flags_in_scope, resolve_flag
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.http.params import MAX_ID, PRINTABLE, RecordId
from shared.http.security import require
from shared.runtime.dependencies import SessionDep

router = APIRouter(tags=["flags"])

Reader = Annotated[Principal, Depends(require(Permission.READ_HOUSEHOLD))]
Resolver = Annotated[Principal, Depends(require(Permission.RESOLVE_FLAG))]


@router.get("/flags", response_model=FlagPage, summary="Flags of families in your wilayah, newest first")
async def list_flags(
    session: SessionDep,
    principal: Reader,
    status: FlagStatus | None = None,
    kind: FlagKind | None = None,
    family_id: Annotated[str | None, Query(pattern=PRINTABLE, max_length=36)] = None,
    kecamatan: Annotated[str | None, Query(pattern=PRINTABLE, max_length=20)] = None,
    kelurahan: Annotated[str | None, Query(pattern=PRINTABLE, max_length=20)] = None,
    cursor: Annotated[int | None, Query(ge=1, le=MAX_ID, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> FlagPage:
    query = flags_in_scope(
        principal,
        status=status,
        kind=kind,
        family_id=family_id,
        kecamatan=kecamatan,
        kelurahan=kelurahan,
        before=cursor,
    )
    rows = await flag_page(session, query, limit=limit)
    items = [FlagOut.model_validate(r) for r in rows[:limit]]
    return FlagPage(items=items, next_cursor=str(items[-1].id) if len(rows) > limit else None)


@router.post("/flags/{flag_id}/confirm", response_model=FlagOut, summary="Confirm an open flag")
async def confirm(flag_id: RecordId, body: Resolution, session: SessionDep, principal: Resolver) -> FlagOut:
    row = await resolve_flag(
        session, flag_id=flag_id, confirm=True, reason=body.reason, principal=principal, actor=actor_of(principal)
    )
    return FlagOut.model_validate(row)


@router.post("/flags/{flag_id}/refute", response_model=FlagOut, summary="Refute an open flag")
async def refute(flag_id: RecordId, body: Resolution, session: SessionDep, principal: Resolver) -> FlagOut:
    row = await resolve_flag(
        session, flag_id=flag_id, confirm=False, reason=body.reason, principal=principal, actor=actor_of(principal)
    )
    return FlagOut.model_validate(row)
