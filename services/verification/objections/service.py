"""Objections (sanggah): residency check, ground check, decision, removal proposal, the 14-day lapse."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal
from uuid import uuid4

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification import guarded
from services.verification.evidence.service import require_stored
from services.verification.groundchecks import service as checks
from services.verification.groundchecks.rules import CheckReason
from services.verification.objections.models import objection
from services.verification.objections.rules import OBJECTION_MACHINE, PENDING_STATES, due_date, is_resident
from services.verification.objections.schemas import DecisionIn, ObjectionIn, ObjectionOut
from services.verification.proposal_records import ProposalKind
from services.verification.proposals import service as proposals
from services.verification.proposals.rules import Channel, cycle_of
from services.verification.scope import not_found, within_scope
from services.verification.settings import VerificationSettings
from shared.auth.principal import Principal
from shared.context import current_correlation_id
from shared.events.envelope import utcnow
from shared.events.household import VerificationEventType
from shared.events.objection import ObjectionResult
from shared.events.topics import VERIFICATION_OUTCOME
from shared.http.problems import ProblemError
from shared.outbox.writer import OutboxWriter

_EVENT = {
    "upheld": VerificationEventType.OBJECTION_UPHELD,
    "rejected": VerificationEventType.OBJECTION_REJECTED,
    "lapsed": VerificationEventType.OBJECTION_LAPSED,
}


async def receive(
    session: AsyncSession, *, principal: Principal, settings: VerificationSettings, body: ObjectionIn
) -> dict[str, Any]:
    """Record an objection by a resident of the family's kelurahan and open its ground check."""
    family = await proposals.family_in_scope(session, principal, body.household_id)
    if not is_resident(body.objector_kelurahan_code, family.kelurahan_code):
        raise ProblemError(
            422,
            "Only a resident of the family's own kelurahan may object.",
            code="objector_not_resident",
            errors=[{"field": "objector_kelurahan_code", "reason": "differs from the family's kelurahan"}],
        )
    await require_stored(session, hashes=[body.photo.sha256], field="photo")
    now = utcnow()
    new_id = (
        await session.execute(
            insert(objection)
            .values(
                household_id=family.household_id,
                kecamatan_code=family.kecamatan_code,
                kelurahan_code=family.kelurahan_code,
                objector_kelurahan_code=body.objector_kelurahan_code,
                grounds=body.grounds.value,
                photo_sha256=body.photo.sha256,
                photo_media_type=body.photo.media_type,
                gps_lat=body.gps.lat,
                gps_lon=body.gps.lon,
                status="received",
                received_at=now,
                due_at=due_date(now, settings.objection_due_days),
                recorded_by=principal.subject,
            )
            .returning(objection.c.id)
        )
    ).scalar_one()
    check_id, _ = await checks.open_check(
        session,
        settings=settings,
        household_id=family.household_id,
        kecamatan_code=family.kecamatan_code,
        kelurahan_code=family.kelurahan_code,
        reason=CheckReason.OBJECTION,
        origin_ref=f"objection:{new_id}",
        now=now,
    )
    row = await guarded.load(session, objection, int(new_id))
    assert row is not None
    return await guarded.move(
        session, objection, OBJECTION_MACHINE, row, "start_verification", {"ground_check_id": check_id}
    )


async def load_objection(session: AsyncSession, *, principal: Principal, objection_id: int) -> dict[str, Any]:
    """An objection the caller's scope reaches, else 404."""
    row = await guarded.load(session, objection, objection_id)
    if row is None or not principal.covers(row["kelurahan_code"]):
        raise not_found("objection", objection_id)
    return row


async def decide(
    session: AsyncSession,
    *,
    outbox: OutboxWriter,
    principal: Principal,
    settings: VerificationSettings,
    objection_id: int,
    body: DecisionIn,
) -> dict[str, Any]:
    """Uphold (→ a removal proposal is created) or reject; the result is emitted."""
    row = await load_objection(session, principal=principal, objection_id=objection_id)
    now = utcnow()
    action = "uphold" if body.result == "upheld" else "reject"
    values: dict[str, Any] = {
        "decided_at": now,
        "decided_by": principal.subject,
        "decision_reason": body.reason,
        "decision_note": body.note,
    }
    moved = await guarded.move(session, objection, OBJECTION_MACHINE, row, action, values)
    if body.result == "upheld":
        removal = await proposals.insert_proposal(
            session,
            kind=ProposalKind.REMOVAL.value,
            channel=Channel.DINSOS_COUNTER.value,
            household_id=row["household_id"],
            kelurahan_code=row["kelurahan_code"],
            note=f"objection:{objection_id}",
            status="submitted",
            created_by=principal.subject,
            cycle=cycle_of(now, settings.proposal_cutoff_day),
            submitted_at=now,
        )
        await session.execute(
            update(objection).where(objection.c.id == objection_id).values(removal_proposal_id=removal["id"])
        )
        moved["removal_proposal_id"] = removal["id"]
    await outbox.add(
        session,
        topic=VERIFICATION_OUTCOME,
        event_type=_EVENT[body.result],
        subject=row["household_id"],
        aggregate_version=moved["version"],
        data=_result(moved, body.result, now),
    )
    return moved


def _result(row: dict[str, Any], result: Literal["upheld", "rejected", "lapsed"], at: datetime) -> ObjectionResult:
    removal = row.get("removal_proposal_id")
    return ObjectionResult(
        household_id=row["household_id"],
        objection_id=str(row["id"]),
        kelurahan_code=row["kelurahan_code"],
        result=result,
        reason=row.get("decision_reason"),
        decided_at=at,
        removal_proposal_id=str(removal) if removal else None,
    )


async def lapse_overdue(session: AsyncSession, *, outbox: OutboxWriter, now: datetime | None = None) -> int:
    """Lapse every objection past its due date in one set-based UPDATE; running it twice changes nothing more."""
    now = now or utcnow()
    lapsed = (
        await session.execute(
            update(objection)
            .where(objection.c.status.in_(PENDING_STATES), objection.c.due_at < now)
            .values(status="lapsed", decided_at=now, decided_by="system:lapse", version=objection.c.version + 1)
            .returning(objection.c.id, objection.c.household_id, objection.c.kelurahan_code, objection.c.version)
        )
    ).all()
    if not lapsed:
        return 0
    correlation = current_correlation_id()
    rows = [
        {
            "event_id": str(uuid4()),
            "topic": VERIFICATION_OUTCOME,
            "event_type": VerificationEventType.OBJECTION_LAPSED.value,
            "subject": hid,
            "aggregate_version": version,
            "occurred_at": now,
            "recorded_at": now,
            "correlation_id": correlation,
            "data": json.dumps(
                ObjectionResult(
                    household_id=hid, objection_id=str(oid), kelurahan_code=kel, result="lapsed", decided_at=now
                ).model_dump(mode="json")
            ),
        }
        for oid, hid, kel, version in lapsed
    ]
    await session.execute(insert(outbox.table), rows)
    await outbox.signal(session)
    return len(lapsed)


def to_out(row: dict[str, Any]) -> ObjectionOut:
    """Response body of an objection."""
    return ObjectionOut(**{k: row[k] for k in ObjectionOut.model_fields})


async def list_objections(
    session: AsyncSession, *, principal: Principal, status: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of objections in the caller's scope (oldest due first) and the total."""
    where: list[Any] = [within_scope(objection.c.kelurahan_code, principal)]
    if status:
        where.append(objection.c.status == status)
    total = (await session.execute(select(func.count()).select_from(objection).where(*where))).scalar_one()
    rows = await session.execute(
        select(objection).where(*where).order_by(objection.c.due_at, objection.c.id).limit(limit).offset(offset)
    )
    return [dict(r._mapping) for r in rows], int(total)
