"""HTTP API of data-quality flags: list in scope, confirm, refute."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.registry.domain.flags import FlagKind, FlagStatus
from services.registry.families.changes import actor_of
from services.registry.flags import service
from services.registry.flags.schemas import FlagFilter, FlagOut, FlagPage, Resolution
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
    filters = FlagFilter(
        status=status.value if status else None,
        kind=kind.value if kind else None,
        family_id=family_id,
        kecamatan=kecamatan,
        kelurahan=kelurahan,
    )
    return await service.list_flags(session, principal=principal, filters=filters, cursor=cursor, limit=limit)


@router.post("/flags/{flag_id}/confirm", response_model=FlagOut, summary="Confirm an open flag")
async def confirm(flag_id: RecordId, body: Resolution, session: SessionDep, principal: Resolver) -> FlagOut:
    row = await service.resolve_flag(
        session, flag_id=flag_id, confirm=True, reason=body.reason, principal=principal, actor=actor_of(principal)
    )
    return FlagOut.model_validate(row)


@router.post("/flags/{flag_id}/refute", response_model=FlagOut, summary="Refute an open flag")
async def refute(flag_id: RecordId, body: Resolution, session: SessionDep, principal: Resolver) -> FlagOut:
    row = await service.resolve_flag(
        session, flag_id=flag_id, confirm=False, reason=body.reason, principal=principal, actor=actor_of(principal)
    )
    return FlagOut.model_validate(row)
