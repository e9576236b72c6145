"""HTTP API of officers and ground checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from services.verification import idempotency
from services.verification.groundchecks import service
from services.verification.groundchecks.schemas import (
    AssignIn,
    CancelIn,
    CheckOut,
    CheckPage,
    CommentIn,
    OfficerIn,
    OfficerOut,
    VisitIn,
    WorkloadRow,
)
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.events.envelope import utcnow
from shared.http.idempotency import IdempotencyKey
from shared.http.params import MAX_ID, RecordId, TextFilter, WilayahFilter
from shared.http.problems import ProblemError
from shared.http.security import require
from shared.runtime.dependencies import RuntimeDep, SessionDep

router = APIRouter(tags=["ground checks"])

Reader = Annotated[Principal, Depends(require(Permission.READ_VERIFICATION))]
Manager = Annotated[Principal, Depends(require(Permission.MANAGE_GROUND_CHECKS))]
OfficerManager = Annotated[Principal, Depends(require(Permission.MANAGE_OFFICERS))]
Assigner = Annotated[Principal, Depends(require(Permission.ASSIGN_GROUND_CHECK))]
Visitor = Annotated[Principal, Depends(require(Permission.VISIT))]
Approver = Annotated[Principal, Depends(require(Permission.APPROVE_GROUND_CHECK))]


@router.put("/officers/{subject}", response_model=OfficerOut, summary="Register or update an officer")
async def put_officer(subject: str, body: OfficerIn, session: SessionDep, principal: OfficerManager) -> OfficerOut:
    """Register officers (TKSK per kecamatan, PSM, pendamping PKH, verifiers) and their NIK (kepala dinas)."""
    if body.subject != subject:
        raise ProblemError(422, "subject in the path and the body differ.", code="subject_mismatch")
    return await service.seed_officer(session, principal=principal, body=body)


@router.get("/officers", response_model=list[OfficerOut], summary="Officers in your wilayah")
async def get_officers(session: SessionDep, principal: Reader) -> list[OfficerOut]:
    """Officers whose wilayah lies in the caller's scope."""
    return await service.officers(session, principal=principal)


@router.get("/ground-checks", response_model=CheckPage, summary="Ground checks in your wilayah")
async def list_checks(
    session: SessionDep,
    principal: Reader,
    status: TextFilter = None,
    reason: TextFilter = None,
    assigned_to: TextFilter = None,
    kelurahan_code: WilayahFilter = None,
    household_id: TextFilter = None,
    campaign_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    overdue: bool = False,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=MAX_ID),
) -> CheckPage:
    """Filter by state, reason, assignee, wilayah, family, campaign; overdue=true lists past-due open checks."""
    return await service.check_page(
        session,
        principal=principal,
        status=status,
        reason=reason,
        assigned_to=assigned_to,
        kelurahan_code=kelurahan_code,
        household_id=household_id,
        campaign_id=campaign_id,
        overdue=overdue,
        limit=limit,
        offset=offset,
    )


@router.get("/ground-checks/overdue", response_model=CheckPage, summary="Past-due checks not done")
async def overdue_checks(
    session: SessionDep,
    principal: Reader,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=MAX_ID),
) -> CheckPage:
    """Open, assigned or visited checks whose due date has passed."""
    return await service.check_page(session, principal=principal, overdue=True, limit=limit, offset=offset)


@router.get("/ground-checks/workload", response_model=list[WorkloadRow], summary="Checks per officer by state")
async def workload(session: SessionDep, principal: Reader) -> list[WorkloadRow]:
    """Counts by state and overdue per assignee, within the caller's scope."""
    return await service.workload(session, principal=principal)


@router.get("/ground-checks/{check_id}", response_model=CheckOut, summary="One ground check")
async def get_check(check_id: RecordId, session: SessionDep, principal: Reader) -> CheckOut:
    """A check in the caller's scope."""
    return service.to_out(await service.load_check(session, principal=principal, check_id=check_id), utcnow())


@router.post("/ground-checks/{check_id}/assign", response_model=CheckOut, summary="Assign or re-assign")
async def assign(check_id: RecordId, body: AssignIn, session: SessionDep, principal: Assigner) -> CheckOut:
    """Give the check to a TKSK, PSM or pendamping PKH of the family's area."""
    row = await service.assign_check(
        session, principal=principal, check_id=check_id, officer_subject=body.officer_subject
    )
    return service.to_out(row, utcnow())


@router.post("/ground-checks/{check_id}/visit", response_model=CheckOut, summary="Submit the visit")
async def visit(
    check_id: RecordId, body: VisitIn, session: SessionDep, principal: Visitor, idempotency_key: IdempotencyKey = None
) -> CheckOut | JSONResponse:
    """The assignee's report: questionnaire, GPS, photo references, outcome. With an Idempotency-Key, sending the
    same visit again (a phone that lost the first answer) returns the first answer, never a second visit."""

    async def create() -> CheckOut:
        row = await service.submit_visit(session, principal=principal, check_id=check_id, visit=body)
        return service.to_out(row, utcnow())

    return await idempotency.once(
        session,
        principal=principal,
        key=idempotency_key,
        endpoint=f"POST /ground-checks/{check_id}/visit",
        body=body,
        status_code=200,
        create=create,
    )


@router.post("/ground-checks/{check_id}/approve", response_model=CheckOut, summary="Approve (four-eyes)")
async def approve(check_id: RecordId, session: SessionDep, runtime: RuntimeDep, principal: Approver) -> CheckOut:
    """Make the outcome final and emit verification.completed."""
    row = await service.approve_check(session, outbox=runtime.outbox, principal=principal, check_id=check_id)
    return service.to_out(row, utcnow())


@router.post("/ground-checks/{check_id}/return", response_model=CheckOut, summary="Return for rework")
async def return_for_rework(check_id: RecordId, body: CommentIn, session: SessionDep, principal: Approver) -> CheckOut:
    """Back to the assignee with a comment."""
    row = await service.return_check(session, principal=principal, check_id=check_id, comment=body.comment)
    return service.to_out(row, utcnow())


@router.post("/ground-checks/{check_id}/cancel", response_model=CheckOut, summary="Cancel an open check")
async def cancel(check_id: RecordId, body: CancelIn, session: SessionDep, principal: Manager) -> CheckOut:
    """Cancel with a reason (open or assigned checks only)."""
    return service.to_out(
        await service.cancel_check(session, principal=principal, check_id=check_id, reason=body.reason), utcnow()
    )
