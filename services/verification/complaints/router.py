"""HTTP API of complaints (pengaduan), the SMS/WhatsApp webhook and the ops hook of the escalation job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from services.verification import idempotency
from services.verification.complaints import service
from services.verification.complaints.schemas import (
    ActionIn,
    AssignIn,
    CloseIn,
    ComplaintIn,
    ComplaintOut,
    ComplaintPage,
    ComplaintSummary,
    ContactOut,
    EscalationResult,
    WebhookMessageIn,
)
from services.verification.settings import settings_of
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.events.complaint import ComplaintCategory
from shared.events.envelope import utcnow
from shared.http.idempotency import IdempotencyKey
from shared.http.params import MAX_ID, PRINTABLE, RecordId, TextFilter
from shared.http.security import require
from shared.runtime.dependencies import RuntimeDep, SessionDep

router = APIRouter(tags=["complaints"])

Reader = Annotated[Principal, Depends(require(Permission.READ_VERIFICATION))]
Recorder = Annotated[Principal, Depends(require(Permission.RECORD_COMPLAINT))]
Forwarder = Annotated[Principal, Depends(require(Permission.FORWARD_COMPLAINT))]
Handler = Annotated[Principal, Depends(require(Permission.HANDLE_COMPLAINT))]
Operator = Annotated[Principal, Depends(require(Permission.OPERATE))]


@router.post("/complaints", status_code=201, response_model=ComplaintOut, summary="Take a complaint")
async def receive(
    body: ComplaintIn,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Recorder,
    idempotency_key: IdempotencyKey = None,
) -> ComplaintOut | JSONResponse:
    """A complaint from the counter, the call centre, a kelurahan operator, the field app or a LAPOR! case; the
    answer carries the reference number to give the complainant. With an Idempotency-Key a resend returns the
    first answer instead of a second complaint."""

    async def create() -> ComplaintOut:
        row = await service.receive(
            session, outbox=runtime.outbox, principal=principal, settings=settings_of(runtime), body=body
        )
        return service.to_out(row, utcnow())

    return await idempotency.once(
        session,
        principal=principal,
        key=idempotency_key,
        endpoint="POST /complaints",
        body=body,
        status_code=201,
        create=create,
    )


@router.post("/complaints/webhook", status_code=201, response_model=ComplaintOut, summary="SMS/WhatsApp message")
async def webhook(
    body: WebhookMessageIn, session: SessionDep, runtime: RuntimeDep, principal: Forwarder
) -> ComplaintOut | JSONResponse:
    """The SMS/WhatsApp gateway posts each incoming message (system client); a redelivered message_id returns the
    first answer, so the gateway may retry freely."""

    async def create() -> ComplaintOut:
        row = await service.receive(
            session,
            outbox=runtime.outbox,
            principal=principal,
            settings=settings_of(runtime),
            body=service.from_webhook(body),
        )
        return service.to_out(row, utcnow())

    return await idempotency.once(
        session,
        principal=principal,
        key=f"{body.channel.value}:{body.message_id}",
        endpoint="POST /complaints/webhook",
        body=body,
        status_code=201,
        create=create,
    )


@router.get("/complaints", response_model=ComplaintPage, summary="Complaints in your wilayah")
async def list_complaints(
    session: SessionDep,
    principal: Reader,
    status: TextFilter = None,
    category: ComplaintCategory | None = None,
    reference: TextFilter = None,
    overdue: bool = False,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=MAX_ID),
) -> ComplaintPage:
    """Oldest due first; `reference` finds the complaint a caller quotes; `overdue=true` keeps the open ones past
    their SLA."""
    return await service.page(
        session,
        principal=principal,
        status=status,
        category=category.value if category else None,
        reference=reference,
        overdue=overdue,
        limit=limit,
        offset=offset,
    )


@router.get("/complaints/summary", response_model=ComplaintSummary, summary="Complaints by kecamatan")
async def summary(session: SessionDep, principal: Reader) -> ComplaintSummary:
    """Counts per kecamatan, category and SLA status (on_time, due_soon, overdue, closed) for the dashboard."""
    now = utcnow()
    return ComplaintSummary(as_of=now, rows=await service.summary(session, principal=principal, now=now))


@router.get("/complaints/{complaint_id}", response_model=ComplaintOut, summary="One complaint")
async def get(complaint_id: RecordId, session: SessionDep, principal: Reader) -> ComplaintOut:
    """A complaint in the caller's scope, the contact masked."""
    return service.to_out(await service.load(session, principal=principal, complaint_id=complaint_id), utcnow())


@router.get("/complaints/{complaint_id}/contact", response_model=ContactOut, summary="The complainant's contact")
async def contact(
    complaint_id: RecordId,
    session: SessionDep,
    principal: Handler,
    purpose: str = Query(min_length=3, max_length=200, pattern=PRINTABLE, description="Why you need it (audited)."),
) -> ContactOut:
    """Unmasked name and number, for calling the complainant back; each read is in the audit log."""
    return await service.contact(session, principal=principal, complaint_id=complaint_id, purpose=purpose.strip())


@router.post("/complaints/{complaint_id}/assign", response_model=ComplaintOut, summary="Assign to an officer")
async def assign(
    complaint_id: RecordId, body: AssignIn, session: SessionDep, runtime: RuntimeDep, principal: Handler
) -> ComplaintOut:
    """received → in_progress (or re-assign)."""
    row = await service.assign(
        session,
        outbox=runtime.outbox,
        principal=principal,
        complaint_id=complaint_id,
        officer_subject=body.officer_subject,
    )
    return service.to_out(row, utcnow())


@router.post("/complaints/{complaint_id}/actions", response_model=ComplaintOut, summary="Start an action")
async def act(
    complaint_id: RecordId, body: ActionIn, session: SessionDep, runtime: RuntimeDep, principal: Handler
) -> ComplaintOut:
    """ground_check, data_correction (a draft usulan), reconciliation_break or payer_inquiry (asked of
    disbursement by event); which ones a category allows is in complaints/rules.py."""
    row = await service.act(
        session,
        outbox=runtime.outbox,
        principal=principal,
        settings=settings_of(runtime),
        complaint_id=complaint_id,
        body=body,
    )
    return service.to_out(row, utcnow())


async def _close(
    transition: str, complaint_id: int, body: CloseIn, session: SessionDep, runtime: RuntimeDep, principal: Principal
) -> ComplaintOut:
    row = await service.close(
        session,
        outbox=runtime.outbox,
        principal=principal,
        settings=settings_of(runtime),
        complaint_id=complaint_id,
        transition=transition,
        body=body,
    )
    return service.to_out(row, utcnow())


@router.post("/complaints/{complaint_id}/resolve", response_model=ComplaintOut, summary="Resolve")
async def resolve(
    complaint_id: RecordId, body: CloseIn, session: SessionDep, runtime: RuntimeDep, principal: Handler
) -> ComplaintOut:
    """in_progress → resolved, with the reason."""
    return await _close("resolve", complaint_id, body, session, runtime, principal)


@router.post("/complaints/{complaint_id}/reject", response_model=ComplaintOut, summary="Reject")
async def reject(
    complaint_id: RecordId, body: CloseIn, session: SessionDep, runtime: RuntimeDep, principal: Handler
) -> ComplaintOut:
    """→ rejected (unfounded, duplicate, …), with the reason."""
    return await _close("reject", complaint_id, body, session, runtime, principal)


@router.post("/complaints/{complaint_id}/refer", response_model=ComplaintOut, summary="Refer elsewhere")
async def refer(
    complaint_id: RecordId, body: CloseIn, session: SessionDep, runtime: RuntimeDep, principal: Handler
) -> ComplaintOut:
    """→ referred to another agency (Kemensos, the bank, the inspectorate), with the reason."""
    return await _close("refer", complaint_id, body, session, runtime, principal)


@router.post(
    "/ops/complaints/escalate", response_model=EscalationResult, tags=["ops"], summary="Escalate overdue complaints"
)
async def escalate(session: SessionDep, runtime: RuntimeDep, principal: Operator) -> EscalationResult:
    """Run the escalation job now (safe to run any number of times; the scheduler runs it hourly)."""
    return EscalationResult(escalated=await service.escalate_overdue(session, outbox=runtime.outbox, now=utcnow()))
