"""Complaints (pengaduan): intake, assignment, the actions they start through existing mechanisms, closing,
the audited contact read and the SLA escalation the scheduler runs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification import guarded
from services.verification.complaints import repository as repo
from services.verification.complaints.models import complaint
from services.verification.complaints.rules import (
    COMPLAINT_MACHINE,
    ComplaintAction,
    action_refusal,
    due_date,
    lacks_payment_reference,
    mask_phone,
    new_reference,
    notifiable,
    sla_status,
)
from services.verification.complaints.schemas import (
    ActionIn,
    CloseIn,
    ComplaintIn,
    ComplaintOut,
    ComplaintPage,
    ContactOut,
    SummaryRow,
    WebhookMessageIn,
)
from services.verification.database import messaging
from services.verification.groundchecks import repository as officers
from services.verification.groundchecks import service as checks
from services.verification.groundchecks.rules import CheckReason
from services.verification.groundchecks.service import as_utc
from services.verification.notifications.service import tell_complainant
from services.verification.proposal_records import ProposalKind
from services.verification.proposals import service as proposals
from services.verification.proposals.rules import Channel
from services.verification.scope import not_found
from services.verification.settings import VerificationSettings
from shared.audit.chain import AuditLog
from shared.auth.principal import Principal, code_within
from shared.auth.scope import ensure_covers
from shared.context import current_correlation_id, request_id_var
from shared.events.complaint import ComplaintCategory, ComplaintEvent, ComplaintEventType
from shared.events.envelope import utcnow
from shared.events.topics import VERIFICATION_OUTCOME
from shared.http.problems import ProblemError
from shared.outbox.writer import OutboxWriter
from shared.privacy.policy import initials
from shared.statemachine import advance

AUDIT = AuditLog(messaging.audit_log)
# Past due by this much more, a complaint is escalated a second time (to the head of the dinas).
SECOND_ESCALATION_AFTER = timedelta(days=7)
_CLOSE_EVENT = {
    "resolve": ComplaintEventType.RESOLVED,
    "reject": ComplaintEventType.REJECTED,
    "refer": ComplaintEventType.REFERRED,
}


def _invalid(field: str, reason: str, code: str) -> ProblemError:
    return ProblemError(422, f"{field}: {reason}.", code=code, errors=[{"field": field, "reason": reason}])


async def _routing(session: AsyncSession, principal: Principal, body: ComplaintIn) -> tuple[str, str]:
    """The complaint's (kecamatan, kelurahan): the family's when it is named, else the stated kelurahan."""
    if body.household_id is not None:
        family = await proposals.family_in_scope(session, principal, body.household_id)
        if body.kelurahan_code is not None and body.kelurahan_code != family.kelurahan_code:
            raise _invalid(
                "kelurahan_code", f"family {body.household_id} lives in {family.kelurahan_code}", "kelurahan_mismatch"
            )
        return family.kecamatan_code, family.kelurahan_code
    if body.kelurahan_code is None:
        raise _invalid("kelurahan_code", "required when no household_id is given", "kelurahan_required")
    ensure_covers(principal, body.kelurahan_code, what="complaint")
    return proposals.kecamatan_of(body.kelurahan_code), body.kelurahan_code


async def receive(
    session: AsyncSession,
    *,
    outbox: OutboxWriter,
    principal: Principal,
    settings: VerificationSettings,
    body: ComplaintIn,
) -> dict[str, Any]:
    """Record a complaint, give it its reference number and SLA due date, and emit complaint.received."""
    if lacks_payment_reference(body.category, body.payment_line_id, body.tahap_code):
        raise _invalid(
            "payment_line_id",
            "a payment complaint names the payment line or at least the tahap",
            "payment_ref_required",
        )
    kecamatan, kelurahan = await _routing(session, principal, body)
    objection_id = None
    if body.category == ComplaintCategory.INCLUSION and body.household_id is not None:
        objection_id = await repo.pending_objection(session, body.household_id)
    now = utcnow()
    row = await repo.insert_complaint(
        session,
        {
            "reference": new_reference(now),
            "channel": body.channel.value,
            "category": body.category.value,
            "status": "received",
            "kecamatan_code": kecamatan,
            "kelurahan_code": kelurahan,
            "household_id": body.household_id,
            "member_id": body.member_id,
            "payment_line_id": body.payment_line_id,
            "tahap_code": body.tahap_code,
            "objection_id": objection_id,
            "external_ref": body.external_ref,
            "description": body.description,
            "anonymous": body.anonymous,
            "contact_name": body.contact_name,
            "contact_phone": body.contact_phone,
            "received_at": now,
            "due_at": due_date(now, body.category.value, settings.complaint_sla_days),
            "recorded_by": principal.subject,
        },
    )
    await _emit(session, outbox, row, ComplaintEventType.RECEIVED, now)
    await _tell(session, settings, row, closed=False)
    return row


def from_webhook(message: WebhookMessageIn) -> ComplaintIn:
    """The complaint an SMS/WhatsApp message makes (the sender's number is the contact unless anonymous)."""
    return ComplaintIn(
        channel=message.channel,
        category=message.category,
        description=message.text,
        kelurahan_code=message.kelurahan_code,
        external_ref=f"{message.channel.value}:{message.message_id}",
        anonymous=message.anonymous,
        contact_name=None if message.anonymous else message.sender_name,
        contact_phone=None if message.anonymous else message.sender,
    )


async def load(session: AsyncSession, *, principal: Principal, complaint_id: int) -> dict[str, Any]:
    """A complaint the caller's scope reaches, else 404."""
    row = await repo.get(session, complaint_id)
    if row is None or not principal.covers(row["kelurahan_code"]):
        raise not_found("complaint", complaint_id)
    return row


async def assign(
    session: AsyncSession, *, outbox: OutboxWriter, principal: Principal, complaint_id: int, officer_subject: str
) -> dict[str, Any]:
    """Give the complaint to an active officer whose area covers its kelurahan (received → in_progress)."""
    row = await load(session, principal=principal, complaint_id=complaint_id)
    advance(COMPLAINT_MACHINE, row["status"], "assign")
    officer = await officers.get_officer(session, officer_subject)
    if officer is None or not officer["active"]:
        raise _invalid("officer_subject", f"no active officer {officer_subject}", "unknown_officer")
    if not code_within(row["kelurahan_code"], officer["wilayah_code"]):
        raise _invalid(
            "officer_subject",
            f"officer {officer_subject} ({officer['wilayah_code']}) does not cover {row['kelurahan_code']}",
            "officer_out_of_area",
        )
    now = utcnow()
    moved = await guarded.move(
        session, complaint, COMPLAINT_MACHINE, row, "assign", {"assigned_to": officer_subject, "assigned_at": now}
    )
    await _emit(session, outbox, moved, ComplaintEventType.ASSIGNED, now)
    return moved


async def act(
    session: AsyncSession,
    *,
    outbox: OutboxWriter,
    principal: Principal,
    settings: VerificationSettings,
    complaint_id: int,
    body: ActionIn,
) -> dict[str, Any]:
    """Start an action: a ground check, a draft data_correction usulan, or a payment referral to disbursement."""
    row = await load(session, principal=principal, complaint_id=complaint_id)
    advance(COMPLAINT_MACHINE, row["status"], "act")
    refusal = action_refusal(
        row["category"], body.action, household_id=row["household_id"], payment_line_id=row["payment_line_id"]
    )
    if refusal is not None:
        raise _invalid("action", refusal, "action_not_allowed")
    now = utcnow()
    links: dict[str, Any]
    if body.action == ComplaintAction.GROUND_CHECK:
        check_id, _ = await checks.open_check(
            session,
            settings=settings,
            household_id=row["household_id"],
            kecamatan_code=row["kecamatan_code"],
            kelurahan_code=row["kelurahan_code"],
            reason=CheckReason.COMPLAINT,
            origin_ref=f"complaint:{row['id']}",
            now=now,
        )
        links, ref = {"ground_check_id": check_id}, f"ground_check:{check_id}"
    elif body.action == ComplaintAction.DATA_CORRECTION:
        made = await proposals.insert_proposal(
            session,
            kind=ProposalKind.DATA_CORRECTION.value,
            channel=Channel.DINSOS_COUNTER.value,
            household_id=row["household_id"],
            kelurahan_code=row["kelurahan_code"],
            note=f"complaint {row['reference']}" + (f": {body.note}" if body.note else ""),
            status="draft",
            created_by=principal.subject,
        )
        links, ref = {"proposal_id": made["id"]}, f"proposal:{made['id']}"
    else:
        # Disbursement owns payment lines: the request travels as the event below, by payment line id only.
        links, ref = {"referral": body.action.value}, f"{body.action.value}:{row['payment_line_id']}"
    moved = await guarded.move(session, complaint, COMPLAINT_MACHINE, row, "act", links)
    await _emit(session, outbox, moved, ComplaintEventType.ACTION_TAKEN, now, action=body.action.value, action_ref=ref)
    return moved


async def close(
    session: AsyncSession,
    *,
    outbox: OutboxWriter,
    principal: Principal,
    settings: VerificationSettings,
    complaint_id: int,
    transition: str,
    body: CloseIn,
) -> dict[str, Any]:
    """Resolve, reject or refer the complaint with its reason; a complainant who can be reached is told."""
    row = await load(session, principal=principal, complaint_id=complaint_id)
    now = utcnow()
    values = {
        "close_reason": body.reason.value,
        "close_note": body.note,
        "closed_at": now,
        "closed_by": principal.subject,
    }
    moved = await guarded.move(session, complaint, COMPLAINT_MACHINE, row, transition, values)
    await _emit(session, outbox, moved, _CLOSE_EVENT[transition], now)
    await _tell(session, settings, moved, closed=True)
    return moved


async def _tell(session: AsyncSession, settings: VerificationSettings, row: dict[str, Any], *, closed: bool) -> None:
    # An anonymous complainant (or one without a phone) is never written to.
    if notifiable(row["anonymous"], row["contact_phone"]):
        await tell_complainant(
            session,
            settings=settings,
            reference=row["reference"],
            category=row["category"],
            phone=row["contact_phone"],
            closed=closed,
        )


async def contact(session: AsyncSession, *, principal: Principal, complaint_id: int, purpose: str) -> ContactOut:
    """The complainant's contact in full; the read goes into the tamper-evident audit log with its purpose."""
    row = await load(session, principal=principal, complaint_id=complaint_id)
    await AUDIT.record(
        session,
        actor=principal.subject,
        role=str(principal.role),
        action="read complainant contact",
        record_type="complaint",
        record_id=str(row["id"]),
        purpose=purpose,
        after={"reference": row["reference"], "fields": "contact_name,contact_phone"},
        request_id=request_id_var.get(),
    )
    return ContactOut(
        reference=row["reference"],
        anonymous=row["anonymous"],
        contact_name=row["contact_name"],
        contact_phone=row["contact_phone"],
    )


async def escalate_overdue(session: AsyncSession, *, outbox: OutboxWriter, now: datetime) -> int:
    """Escalate every open complaint past its SLA (level 1) or past it by a further week (level 2), set-based;
    one complaint.escalated event per raise. Running it again at the same moment raises nothing more."""
    raised = await repo.escalate(session, level=1, overdue_before=now, now=now)
    raised += await repo.escalate(session, level=2, overdue_before=now - SECOND_ESCALATION_AFTER, now=now)
    if not raised:
        return 0
    correlation = current_correlation_id()
    await session.execute(
        insert(outbox.table),
        [
            {
                "event_id": str(uuid4()),
                "topic": VERIFICATION_OUTCOME,
                "event_type": ComplaintEventType.ESCALATED.value,
                "subject": _subject(row),
                "aggregate_version": row["version"],
                "occurred_at": now,
                "recorded_at": now,
                "correlation_id": correlation,
                "data": json.dumps(_event(row, now).model_dump(mode="json")),
            }
            for row in raised
        ],
    )
    await outbox.signal(session)
    return len(raised)


async def page(
    session: AsyncSession,
    *,
    principal: Principal,
    status: str | None,
    category: str | None,
    reference: str | None,
    overdue: bool,
    limit: int,
    offset: int,
) -> ComplaintPage:
    """A page of complaints in the caller's scope, oldest due first, contacts masked."""
    now = utcnow()
    rows, total = await repo.page(
        session,
        principal=principal,
        status=status,
        category=category,
        reference=reference,
        overdue_at=now if overdue else None,
        limit=limit,
        offset=offset,
    )
    return ComplaintPage(total=total, items=[to_out(r, now) for r in rows])


async def summary(session: AsyncSession, *, principal: Principal, now: datetime) -> list[SummaryRow]:
    """Complaints per kecamatan by category and SLA status, in the caller's scope."""
    rows = await repo.summary(session, principal=principal, now=now, due_soon_at=now + timedelta(days=2))
    return [SummaryRow(kecamatan_code=k, category=cat, sla_status=s, count=n) for k, cat, s, n in rows]


def _subject(row: dict[str, Any]) -> str:
    # Keyed by the family when there is one, so the complaint's events stay in order with the family's.
    return str(row["household_id"] or row["reference"])


def _event(
    row: dict[str, Any], at: datetime, *, action: str | None = None, action_ref: str | None = None
) -> ComplaintEvent:
    return ComplaintEvent(
        reference=row["reference"],
        complaint_id=str(row["id"]),
        category=row["category"],
        channel=row["channel"],
        status=row["status"],
        kecamatan_code=row["kecamatan_code"],
        kelurahan_code=row["kelurahan_code"],
        household_id=row["household_id"],
        payment_line_id=str(row["payment_line_id"]) if row["payment_line_id"] is not None else None,
        tahap_code=row["tahap_code"],
        notifiable=notifiable(row["anonymous"], row["contact_phone"]),
        due_at=as_utc(row["due_at"]),
        escalation_level=row["escalation_level"],
        reason=row["close_reason"],
        action=action,
        action_ref=action_ref,
        occurred_at=at,
    )


async def _emit(
    session: AsyncSession,
    outbox: OutboxWriter,
    row: dict[str, Any],
    event_type: ComplaintEventType,
    at: datetime,
    *,
    action: str | None = None,
    action_ref: str | None = None,
) -> None:
    await outbox.add(
        session,
        topic=VERIFICATION_OUTCOME,
        event_type=event_type,
        subject=_subject(row),
        aggregate_version=row["version"],
        data=_event(row, at, action=action, action_ref=action_ref),
    )


_MASKED = frozenset({"contact_name", "contact_phone"})
_TIMES = frozenset({"received_at", "due_at", "escalated_at", "closed_at"})


def to_out(row: dict[str, Any], now: datetime) -> ComplaintOut:
    """Response body of a complaint, the contact masked."""
    # SQLite hands datetimes back naive (stored in UTC): the answer is the same on both databases.
    times = {k: as_utc(row[k]) if row[k] is not None else None for k in _TIMES}
    due = times["due_at"]
    assert due is not None
    return ComplaintOut(
        **{k: row[k] for k in ComplaintOut.model_fields if k in row and k not in _MASKED | _TIMES},
        **times,
        contact_name=initials(row["contact_name"]),
        contact_phone=mask_phone(row["contact_phone"]),
        notifiable=notifiable(row["anonymous"], row["contact_phone"]),
        sla_status=sla_status(row["status"], due, now),
        allowed_actions=COMPLAINT_MACHINE.allowed(row["status"]),
    )
