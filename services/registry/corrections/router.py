"""HTTP API of the correction queue: extract rows kept out of the member table, listed in scope, fixed or
dismissed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from services.registry.corrections.schemas import CorrectionFix, CorrectionOut, CorrectionPage, Dismissal
from services.registry.corrections.service import dismiss_entry, fix_entry, list_entries
from services.registry.families.changes import actor_of
from shared.auth.permissions import Permission, allowed
from shared.auth.principal import Principal
from shared.http.params import MAX_ID, PRINTABLE, RecordId
from shared.http.security import require
from shared.privacy.identifiers import mask_identifier
from shared.runtime.dependencies import SessionDep

router = APIRouter(tags=["corrections"])
Fixer = Annotated[Principal, Depends(require(Permission.FIX_IMPORT_ROW))]
_IDENTIFIERS = ("nik", "no_kk")


def present(row: Any, principal: Principal) -> CorrectionOut:
    """An entry as this caller may see it: NIK and No. KK masked unless the role may read them."""
    data = dict(row)
    if not allowed(principal.role, Permission.READ_FULL_IDENTIFIERS):
        data["raw"] = {
            k: mask_identifier(v) if k in _IDENTIFIERS and isinstance(v, str) else v for k, v in data["raw"].items()
        }
    return CorrectionOut.model_validate(data)


@router.get("/corrections", response_model=CorrectionPage, summary="Queued extract rows in your wilayah")
async def list_corrections(
    session: SessionDep,
    principal: Fixer,
    status: Annotated[str | None, Query(pattern=r"^(open|fixed|dismissed)$")] = "open",
    rule: Annotated[str | None, Query(pattern=PRINTABLE, max_length=100)] = None,
    kecamatan: Annotated[str | None, Query(pattern=PRINTABLE, max_length=20)] = None,
    kelurahan: Annotated[str | None, Query(pattern=PRINTABLE, max_length=20)] = None,
    family_id: Annotated[str | None, Query(pattern=PRINTABLE, max_length=36)] = None,
    import_id: Annotated[str | None, Query(pattern=PRINTABLE, max_length=36)] = None,
    cursor: Annotated[int | None, Query(ge=1, le=MAX_ID, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CorrectionPage:
    rows = await list_entries(
        session,
        principal,
        status=status,
        rule=rule,
        kecamatan=kecamatan,
        kelurahan=kelurahan,
        family_id=family_id,
        import_id=import_id,
        cursor=cursor,
        limit=limit,
    )
    items = [present(r, principal) for r in rows[:limit]]
    return CorrectionPage(items=items, next_cursor=str(items[-1].id) if len(rows) > limit else None)


@router.post(
    "/corrections/{entry_id}/fix",
    response_model=CorrectionOut,
    summary="Correct a queued row: validated like an import row, then added to its KK's family",
)
async def fix(entry_id: RecordId, body: CorrectionFix, session: SessionDep, principal: Fixer) -> CorrectionOut:
    row = await fix_entry(
        session,
        entry_id=entry_id,
        values=body.values,
        reason=body.reason,
        principal=principal,
        actor=actor_of(principal),
    )
    return present(row, principal)


@router.post("/corrections/{entry_id}/dismiss", response_model=CorrectionOut, summary="Dismiss a queued row")
async def dismiss(entry_id: RecordId, body: Dismissal, session: SessionDep, principal: Fixer) -> CorrectionOut:
    row = await dismiss_entry(
        session, entry_id=entry_id, reason=body.reason, principal=principal, actor=actor_of(principal)
    )
    return present(row, principal)
