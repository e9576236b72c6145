"""Ground checks: opening them from triggers, assignment, visits, four-eyes approval, outcome events."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification.evidence.service import require_stored
from services.verification.groundchecks import repository as repo
from services.verification.groundchecks.models import ground_check
from services.verification.groundchecks.rules import (
    GROUND_CHECK_MACHINE,
    Outcome,
    approval_refusal,
    evidence_hash,
    is_overdue,
    may_take,
    unknown_approver_family,
)
from services.verification.groundchecks.schemas import (
    CheckOut,
    CheckPage,
    Gps,
    OfficerIn,
    OfficerOut,
    PhotoRef,
    VisitIn,
    WorkloadRow,
)
from services.verification.households.repository import families_of_member
from services.verification.proposal_records import ProposalKind, proposal
from services.verification.scope import not_found
from services.verification.settings import VerificationSettings
from shared.audit.changes import note_change
from shared.auth.principal import Principal
from shared.auth.scope import ensure_write_scope
from shared.events.envelope import utcnow
from shared.events.household import VerificationEventType, VerificationOutcome
from shared.events.recipient import RecipientChangeApproved
from shared.events.topics import VERIFICATION_OUTCOME
from shared.http.problems import ProblemError
from shared.outbox.writer import OutboxWriter
from shared.privacy.digest import digest_key, nik_digest
from shared.privacy.identifiers import mask_identifier
from shared.statemachine import IllegalTransition, advance, conflict


def as_utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive (they are stored in UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


OFFICER_AUDIT_FIELDS = ("role", "wilayah_code", "nik_masked", "no_registered_family", "active")


async def seed_officer(session: AsyncSession, *, principal: Principal, body: OfficerIn) -> OfficerOut:
    """Register or update an officer; the caller's scope must cover the record as it is and as it will be.

    The NIK, when given, is kept only as its keyed digest and masked; without it an update keeps the recorded one."""
    if body.subject == principal.subject:
        # The record holds the facts the four-eyes rule checks this officer against.
        raise ProblemError(403, "An officer may not register or change their own officer record.", code="own_record")
    before = await repo.get_officer(session, body.subject)
    ensure_write_scope(
        principal, current=before["wilayah_code"] if before else None, proposed=body.wilayah_code, what="officer"
    )
    digest: str | None
    masked: str | None
    if body.nik is not None:
        digest, masked = nik_digest(body.nik, digest_key(session)), mask_identifier(body.nik)
    else:
        digest, masked = (before["nik_digest"], before["nik_masked"]) if before else (None, None)
    if body.no_registered_family:
        if digest is None:
            raise ProblemError(
                422,
                "no_registered_family declares the officer's NIK is in no registered family: give the NIK.",
                code="validation",
                errors=[{"field": "nik", "reason": "required with no_registered_family"}],
            )
        if await families_of_member(session, digest):
            raise ProblemError(
                422,
                "The registry lists this officer's NIK as a member of a family: no_registered_family is untrue.",
                code="officer_in_registered_family",
                errors=[{"field": "no_registered_family", "reason": "the NIK is a member of a registered family"}],
            )
    values = {
        "subject": body.subject,
        "role": body.role,
        "wilayah_code": body.wilayah_code,
        "nik_digest": digest,
        "nik_masked": masked,
        "no_registered_family": body.no_registered_family,
        "active": body.active,
    }
    await repo.upsert_officer(session, {**values, "updated_by": principal.subject, "updated_at": utcnow()})
    note_change(
        record_type="officer",
        record_id=body.subject,
        action="update" if before else "create",
        # The masked NIK only: the audit trail never holds it in clear (nor its digest).
        before={k: before[k] for k in OFFICER_AUDIT_FIELDS} if before else None,
        after={k: values[k] for k in OFFICER_AUDIT_FIELDS},
    )
    return officer_out(values)


def officer_out(row: Mapping[str, Any]) -> OfficerOut:
    """Response body of an officer record."""
    return OfficerOut(**{k: row[k] for k in OfficerOut.model_fields})


async def open_check(
    session: AsyncSession,
    *,
    settings: VerificationSettings,
    household_id: str | None,
    kecamatan_code: str,
    kelurahan_code: str,
    reason: str,
    origin_ref: str | None,
    now: datetime | None = None,
) -> tuple[int, bool]:
    """Open a ground check (or find the open one for this family and reason); returns (id, created)."""
    now = now or utcnow()
    return await repo.open_check(
        session,
        household_id=household_id,
        kecamatan_code=kecamatan_code,
        kelurahan_code=kelurahan_code,
        reason=reason,
        origin_ref=origin_ref,
        due_at=now + timedelta(days=settings.ground_check_due_days),
        now=now,
    )


async def officers(session: AsyncSession, *, principal: Principal) -> list[OfficerOut]:
    """Officers whose wilayah lies in the caller's scope."""
    return [officer_out(r) for r in await repo.list_officers(session, principal)]


async def check_page(
    session: AsyncSession,
    *,
    principal: Principal,
    status: str | None = None,
    reason: str | None = None,
    assigned_to: str | None = None,
    kelurahan_code: str | None = None,
    household_id: str | None = None,
    campaign_id: int | None = None,
    overdue: bool = False,
    limit: int,
    offset: int,
) -> CheckPage:
    """A page of the checks in the caller's scope matching the filters (`overdue`: open and past due)."""
    now = utcnow()
    where = repo.filtered(
        principal,
        status=status,
        reason=reason,
        assigned_to=assigned_to,
        kelurahan_code=kelurahan_code,
        household_id=household_id,
        campaign_id=campaign_id,
        overdue_at=now if overdue else None,
    )
    rows, total = await repo.list_checks(session, where, limit=limit, offset=offset)
    return CheckPage(total=total, items=[to_out(r, now) for r in rows])


async def workload(session: AsyncSession, *, principal: Principal) -> list[WorkloadRow]:
    """Checks per assignee by state, and how many are overdue, within the caller's scope."""
    counts = await repo.counts_by(session, ground_check.c.assigned_to, repo.filtered(principal), now=utcnow())
    roles = await repo.assignee_roles(session, [k for k in counts if k])
    return [
        WorkloadRow(officer=k, role=roles.get(k) if k else None, counts=c, overdue=late)
        for k, (c, late) in sorted(counts.items(), key=lambda kv: kv[0] or "")
    ]


async def load_check(session: AsyncSession, *, principal: Principal, check_id: int) -> dict[str, Any]:
    """A check the caller's scope reaches, else 404."""
    row = await repo.get_check(session, check_id)
    if row is None or not principal.covers(row["kelurahan_code"]):
        raise not_found("ground check", check_id)
    return row


async def _move(session: AsyncSession, row: dict[str, Any], action: str, values: dict[str, Any]) -> dict[str, Any]:
    target = advance(GROUND_CHECK_MACHINE, row["status"], action)
    moved = await repo.guarded_update(session, row["id"], expected=row["status"], values={"status": target, **values})
    if moved is None:  # someone else moved it between our read and our update
        current = await repo.get_check(session, row["id"])
        state = current["status"] if current else "gone"
        raise conflict(IllegalTransition(GROUND_CHECK_MACHINE.name, state, action, GROUND_CHECK_MACHINE.allowed(state)))
    return moved


async def assign_check(
    session: AsyncSession, *, principal: Principal, check_id: int, officer_subject: str
) -> dict[str, Any]:
    """Give the check to a TKSK, PSM or pendamping PKH whose area covers the family."""
    row = await load_check(session, principal=principal, check_id=check_id)
    advance(GROUND_CHECK_MACHINE, row["status"], "assign")
    target = await repo.get_officer(session, officer_subject)
    if target is None or not target["active"]:
        raise ProblemError(422, f"No active officer {officer_subject}.", code="unknown_officer")
    if not may_take(target["role"], target["wilayah_code"], row["kelurahan_code"]):
        raise ProblemError(
            422,
            f"Officer {officer_subject} ({target['role']}, {target['wilayah_code']}) does not cover "
            f"kelurahan {row['kelurahan_code']}.",
            code="officer_out_of_area",
        )
    return await _move(
        session,
        row,
        "assign",
        {"assigned_to": officer_subject, "assigned_role": target["role"], "updated_at": utcnow()},
    )


async def submit_visit(session: AsyncSession, *, principal: Principal, check_id: int, visit: VisitIn) -> dict[str, Any]:
    """The assignee reports the visit: questionnaire, GPS, photos, outcome."""
    row = await load_check(session, principal=principal, check_id=check_id)
    advance(GROUND_CHECK_MACHINE, row["status"], "submit_visit")
    if row["assigned_to"] != principal.subject:
        raise ProblemError(403, "Only the assigned officer may submit this visit.", code="not_assignee")
    now = utcnow()
    if visit.visited_at > now + timedelta(minutes=5):
        raise ProblemError(422, "visited_at lies in the future.", code="visit_in_future")
    await require_stored(session, hashes=[p.sha256 for p in visit.photos], field="photos")
    evidence = {
        "questionnaire": visit.questionnaire.model_dump(mode="json"),
        "gps": visit.gps.model_dump(mode="json"),
        "photos": [p.model_dump(mode="json") for p in visit.photos],
        "visited_at": visit.visited_at.isoformat(),
        "outcome": visit.outcome.value,
        "reason": visit.reason.value if visit.reason else None,
    }
    return await _move(
        session,
        row,
        "submit_visit",
        {
            "visited_at": visit.visited_at,
            "submitted_by": principal.subject,
            "submitted_role": principal.role.value,
            "outcome": visit.outcome.value,
            "outcome_reason": evidence["reason"],
            "questionnaire": json.dumps(evidence["questionnaire"], sort_keys=True),
            "gps_lat": visit.gps.lat,
            "gps_lon": visit.gps.lon,
            "gps_accuracy_m": visit.gps.accuracy_m,
            "photos": json.dumps(evidence["photos"]),
            "evidence_hash": evidence_hash(evidence),
            "review_comment": None,
            "updated_at": now,
        },
    )


async def approve_check(
    session: AsyncSession, *, outbox: OutboxWriter, principal: Principal, check_id: int
) -> dict[str, Any]:
    """Four-eyes approval: the outcome becomes final, linked proposals move on, verification.completed is emitted."""
    row = await load_check(session, principal=principal, check_id=check_id)
    advance(GROUND_CHECK_MACHINE, row["status"], "approve")
    me = await repo.get_officer(session, principal.subject)
    # The approver's own families come from the registry's data (by NIK digest), never from the officer record.
    mine = await families_of_member(session, me["nik_digest"]) if me and me["nik_digest"] else set()
    linked = (
        await session.execute(
            select(proposal.c.created_by, proposal.c.household_id).where(proposal.c.ground_check_id == check_id)
        )
    ).all()
    refusal = approval_refusal(
        approver=principal.subject,
        approver_families=mine,
        submitted_by=row["submitted_by"],
        check_families=[row["household_id"], *(p.household_id for p in linked)],
        proposal_creators=[p.created_by for p in linked],
    )
    if refusal:
        raise ProblemError(403, f"Four-eyes rule: {refusal}.", code="four_eyes")
    unknown = unknown_approver_family(me, mine)
    if unknown is not None:
        raise ProblemError(409, f"Four-eyes rule cannot be checked: {unknown}.", code="approver_family_unknown")
    now = utcnow()
    moved = await _move(
        session, row, "approve", {"decided_at": now, "decided_by": principal.subject, "updated_at": now}
    )
    eligible = moved["outcome"] == Outcome.LAYAK
    recipient_changes = (
        await session.execute(
            select(proposal.c.id, proposal.c.household_id, proposal.c.member_id, proposal.c.kelurahan_code).where(
                proposal.c.ground_check_id == check_id,
                proposal.c.status == "ground_check_scheduled",
                proposal.c.kind == ProposalKind.RECIPIENT_CHANGE.value,
            )
        )
    ).all()
    # ground_check_scheduled → ground_check_done → eligible | not_eligible, in one guarded statement.
    await session.execute(
        update(proposal)
        .where(proposal.c.ground_check_id == check_id, proposal.c.status == "ground_check_scheduled")
        .values(
            status="eligible" if eligible else "not_eligible",
            reason_code=None if eligible else moved["outcome_reason"],
            verified_at=now,
            updated_at=now,
            version=proposal.c.version + 1,
        )
    )
    if moved["household_id"] is not None:
        await outbox.add(
            session,
            topic=VERIFICATION_OUTCOME,
            event_type=VerificationEventType.COMPLETED,
            subject=moved["household_id"],
            aggregate_version=moved["version"],
            data=VerificationOutcome(
                household_id=moved["household_id"],
                check_id=str(check_id),
                outcome=moved["outcome"],
                reason=moved["outcome_reason"],
                verified_at=now,
                officer_role=moved["submitted_role"] or "unknown",
                evidence_hash=moved["evidence_hash"],
            ),
        )
    if eligible:
        for p in recipient_changes:
            # The verified replacement recipient: the registry names them (and refuses one it cannot accept).
            await outbox.add(
                session,
                topic=VERIFICATION_OUTCOME,
                event_type=VerificationEventType.RECIPIENT_CHANGE_APPROVED,
                subject=p.household_id,
                aggregate_version=moved["version"],
                data=RecipientChangeApproved(
                    household_id=p.household_id,
                    proposal_id=str(p.id),
                    member_id=p.member_id,
                    kelurahan_code=p.kelurahan_code,
                    approved_at=now,
                ),
            )
    return moved


async def return_check(session: AsyncSession, *, principal: Principal, check_id: int, comment: str) -> dict[str, Any]:
    """Send a visit back to the assignee for rework."""
    row = await load_check(session, principal=principal, check_id=check_id)
    return await _move(
        session,
        row,
        "return",
        {
            "review_comment": comment,
            "returned_count": row["returned_count"] + 1,
            "decided_by": principal.subject,
            "updated_at": utcnow(),
        },
    )


async def cancel_check(session: AsyncSession, *, principal: Principal, check_id: int, reason: str) -> dict[str, Any]:
    """Cancel an open or assigned check."""
    row = await load_check(session, principal=principal, check_id=check_id)
    return await _move(session, row, "cancel", {"cancel_reason": reason, "updated_at": utcnow()})


def to_out(row: dict[str, Any], now: datetime) -> CheckOut:
    """Response body of a check."""
    photos = [PhotoRef(**p) for p in json.loads(row["photos"])] if row["photos"] else None
    gps = (
        Gps(lat=row["gps_lat"], lon=row["gps_lon"], accuracy_m=row.get("gps_accuracy_m"))
        if row["gps_lat"] is not None
        else None
    )
    return CheckOut(
        **{k: row[k] for k in CheckOut.model_fields if k in row and k not in {"questionnaire", "gps", "photos"}},
        overdue=is_overdue(row["status"], as_utc(row["due_at"]), now),
        questionnaire=json.loads(row["questionnaire"]) if row["questionnaire"] else None,
        gps=gps,
        photos=photos,
    )
