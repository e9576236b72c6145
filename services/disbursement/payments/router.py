"""HTTP routes of payment lines."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.disbursement.payments import service
from services.disbursement.payments.schemas import LINE_COLUMNS, AdvanceIn, AdvanceOut, LineOut, TransitionIn
from services.disbursement.scope import require_kota
from services.disbursement.tahap_state.schemas import ReasonIn
from services.disbursement.tahap_state.service import require_tahap
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.events.payment import PaymentLineStatusCode
from shared.exports.response import EXPORT_RESPONSES, ExportFormat, export_response, stream_query
from shared.http.params import MAX_ID, PathText, RecordId
from shared.http.security import require
from shared.runtime.dependencies import RuntimeDep, SessionDep

router = APIRouter(tags=["payment lines"])
Reader = Annotated[Principal, Depends(require(Permission.READ_PAYMENTS))]
Preparer = Annotated[Principal, Depends(require(Permission.PREPARE_TAHAP))]
Approver = Annotated[Principal, Depends(require(Permission.APPROVE_TAHAP))]


@router.get(
    "/tahap/{tahap_id}/payment-lines",
    summary="Payment lines of a tahap (scoped); format=csv|xlsx exports every matching line",
    response_model=list[LineOut],
    responses=EXPORT_RESPONSES,
)
async def list_lines(
    tahap_id: PathText,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Reader,
    status: PaymentLineStatusCode | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    format: ExportFormat = "json",
) -> list[LineOut] | Response:
    wanted = status.value if status else None
    if format != "json":
        await require_tahap(session, tahap_id)
        query = service.lines_export_query(tahap_id=tahap_id, principal=principal, status=wanted)
        rows = stream_query(runtime.sessions, query, lambda r: service.line_out(r).model_dump())
        return export_response(format, LINE_COLUMNS, rows, name=f"baris-pembayaran-{tahap_id}")
    return await service.list_lines(
        session, tahap_id=tahap_id, principal=principal, status=wanted, limit=limit, offset=offset
    )


@router.post("/tahap/{tahap_id}/payment-lines/advance", summary="Advance all lines in one status (set-based)")
async def advance(tahap_id: PathText, body: AdvanceIn, session: SessionDep, principal: Preparer) -> AdvanceOut:
    require_kota(principal, "advance payment lines")
    return await service.advance(session, tahap_id=tahap_id, body=body)


@router.get("/payment-lines/{line_id}", summary="One payment line")
async def get_line(line_id: RecordId, session: SessionDep, principal: Reader) -> LineOut:
    return service.line_out(await service.require_line(session, line_id, principal))


@router.post("/payment-lines/{line_id}/transition", summary="Move one line (guarded)")
async def transition(line_id: RecordId, body: TransitionIn, session: SessionDep, principal: Preparer) -> LineOut:
    require_kota(principal, "move payment lines")
    return await service.transition(session, line_id=line_id, body=body, principal=principal)


@router.post("/payment-lines/{line_id}/release", summary="Release a held line (who and why are kept)")
async def release(line_id: RecordId, body: ReasonIn, session: SessionDep, principal: Approver) -> LineOut:
    require_kota(principal, "decide on held lines")
    return await service.decide_hold(session, line_id=line_id, release=True, reason=body.reason, principal=principal)


@router.post("/payment-lines/{line_id}/cancel", summary="Cancel a held line (who and why are kept)")
async def cancel(line_id: RecordId, body: ReasonIn, session: SessionDep, principal: Approver) -> LineOut:
    require_kota(principal, "decide on held lines")
    return await service.decide_hold(session, line_id=line_id, release=False, reason=body.reason, principal=principal)
