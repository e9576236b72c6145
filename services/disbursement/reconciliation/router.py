"""HTTP routes of reconciliation and the break queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.disbursement.reconciliation import service
from services.disbursement.reconciliation.schemas import BREAK_COLUMNS, BreakOut, ReconciliationOut, ResolveIn
from services.disbursement.scope import require_kota
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.exports.response import EXPORT_RESPONSES, ExportFormat, export_response, stream_query
from shared.http.params import MAX_ID, PRINTABLE, PathText, RecordId
from shared.http.security import require
from shared.runtime.dependencies import RuntimeDep, SessionDep

router = APIRouter(tags=["reconciliation"])
Reader = Annotated[Principal, Depends(require(Permission.READ_PAYMENTS))]
Resolver = Annotated[Principal, Depends(require(Permission.RESOLVE_BREAK))]


@router.post("/tahap/{tahap_id}/reconcile", summary="Detect mismatches into the break queue; totals")
async def reconcile(tahap_id: PathText, session: SessionDep, principal: Resolver) -> ReconciliationOut:
    require_kota(principal, "reconcile a tahap")
    return await service.reconcile(session, tahap_id=tahap_id, principal=principal)


@router.get("/tahap/{tahap_id}/reconciliation", summary="Totals planned / at payer / paid / failed / returned")
async def summary(tahap_id: PathText, session: SessionDep, principal: Reader) -> ReconciliationOut:
    require_kota(principal, "read kota-wide payment totals")
    return await service.summary(session, tahap_id=tahap_id, principal=principal)


@router.get(
    "/tahap/{tahap_id}/breaks",
    summary="The break queue (scoped); format=csv|xlsx exports every matching break",
    response_model=list[BreakOut],
    responses=EXPORT_RESPONSES,
)
async def breaks(
    tahap_id: PathText,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Reader,
    status: Annotated[str | None, Query(pattern="^(open|resolved)$")] = None,
    kind: Annotated[str | None, Query(pattern=PRINTABLE, max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    format: ExportFormat = "json",
) -> list[BreakOut] | Response:
    if format != "json":
        query = await service.breaks_query(session, tahap_id=tahap_id, principal=principal, status=status, kind=kind)
        rows = stream_query(runtime.sessions, query, service.break_row)
        return export_response(format, BREAK_COLUMNS, rows, name=f"selisih-{tahap_id}")
    return await service.breaks(
        session, tahap_id=tahap_id, principal=principal, status=status, kind=kind, limit=limit, offset=offset
    )


@router.post("/breaks/{break_id}/resolve", summary="Resolve a break (who and why are kept)")
async def resolve(break_id: RecordId, body: ResolveIn, session: SessionDep, principal: Resolver) -> BreakOut:
    return await service.resolve(session, break_id=break_id, body=body, principal=principal)
