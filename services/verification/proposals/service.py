"""Proposals (usulan) through the DOMAIN §4 state machine, and the muskel records they rest on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification import guarded
from services.verification.attachments import repository as attachments
from services.verification.attachments.schemas import AttachmentOut, DocumentRef
from services.verification.evidence.service import require_stored
from services.verification.groundchecks import service as checks
from services.verification.groundchecks.rules import CheckReason
from services.verification.households.models import Household
from services.verification.proposal_records import proposal
from services.verification.proposals.models import muskel
from services.verification.proposals.rules import (
    ACTION_PERMISSION,
    PROPOSAL_MACHINE,
    ProposalAction,
    cycle_of,
    member_problem,
    needs_household,
    submit_action,
)
from services.verification.proposals.schemas import MuskelIn, MuskelOut, ProposalActionIn, ProposalIn, ProposalOut
from services.verification.scope import not_found, within_scope
from services.verification.settings import VerificationSettings
from shared.auth.permissions import allowed
from shared.auth.principal import Principal
from shared.auth.scope import ensure_covers
from shared.db.expressions import within
from shared.events.envelope import utcnow
from shared.http.problems import ProblemError
from shared.statemachine import advance


def kecamatan_of(kelurahan_code: str) -> str:
    """13.71.01.1001 → 13.71.01."""
    return kelurahan_code.rsplit(".", 1)[0]


async def family_in_scope(session: AsyncSession, principal: Principal, household_id: str) -> Household:
    """The read-model family, if the caller's scope reaches it; else 404."""
    family = await session.get(Household, household_id)
    if family is None or not principal.covers(family.kelurahan_code):
        raise not_found("family", household_id)
    return family


async def create_proposal(session: AsyncSession, *, principal: Principal, body: ProposalIn) -> dict[str, Any]:
    """Record a draft proposal in the caller's wilayah."""
    problem = member_problem(body.kind, body.member_id)
    if problem is not None:
        raise ProblemError(
            422,
            f"member_id: {problem}.",
            code="member_id_invalid",
            errors=[{"field": "member_id", "reason": problem}],
        )
    if needs_household(body.kind):
        if body.household_id is None:
            raise ProblemError(
                422,
                f"A {body.kind} proposal names the family.",
                code="household_required",
                errors=[{"field": "household_id", "reason": "required for this kind"}],
            )
        family = await family_in_scope(session, principal, body.household_id)
        if body.kelurahan_code and body.kelurahan_code != family.kelurahan_code:
            raise ProblemError(
                422,
                f"Family {body.household_id} lives in {family.kelurahan_code}, not {body.kelurahan_code}.",
                code="kelurahan_mismatch",
            )
        kelurahan = family.kelurahan_code
    else:
        if body.kelurahan_code is None:
            raise ProblemError(
                422,
                "A new-family proposal names its kelurahan.",
                code="kelurahan_required",
                errors=[{"field": "kelurahan_code", "reason": "required for new_family"}],
            )
        kelurahan = body.kelurahan_code
    ensure_covers(principal, kelurahan, what="proposal")
    return await insert_proposal(
        session,
        kind=body.kind.value,
        channel=body.channel.value,
        household_id=body.household_id,
        member_id=body.member_id,
        kelurahan_code=kelurahan,
        note=body.note,
        status="draft",
        created_by=principal.subject,
    )


async def insert_proposal(
    session: AsyncSession,
    *,
    kind: str,
    channel: str,
    household_id: str | None,
    kelurahan_code: str,
    note: str | None,
    member_id: str | None = None,
    status: str,
    created_by: str,
    cycle: str | None = None,
    submitted_at: datetime | None = None,
) -> dict[str, Any]:
    """Insert one proposal row and return it."""
    now = utcnow()
    new_id = (
        await session.execute(
            insert(proposal)
            .values(
                kind=kind,
                channel=channel,
                household_id=household_id,
                member_id=member_id,
                kecamatan_code=kecamatan_of(kelurahan_code),
                kelurahan_code=kelurahan_code,
                status=status,
                cycle=cycle,
                note=note,
                created_by=created_by,
                created_at=now,
                submitted_at=submitted_at,
                updated_at=now,
            )
            .returning(proposal.c.id)
        )
    ).scalar_one()
    row = await guarded.load(session, proposal, int(new_id))
    assert row is not None
    return row


async def load_proposal(session: AsyncSession, *, principal: Principal, proposal_id: int) -> dict[str, Any]:
    """A proposal the caller's scope reaches, else 404."""
    row = await guarded.load(session, proposal, proposal_id)
    if row is None or not principal.covers(row["kelurahan_code"]):
        raise not_found("proposal", proposal_id)
    return row


async def act(
    session: AsyncSession,
    *,
    principal: Principal,
    settings: VerificationSettings,
    proposal_id: int,
    action: ProposalAction,
    body: ProposalActionIn,
) -> dict[str, Any]:
    """Apply one caller action to a proposal (409 when its state does not allow it)."""
    if not allowed(principal.role, ACTION_PERMISSION[action]):
        raise ProblemError(403, f"Role '{principal.role}' may not {action.value} proposals.", code="forbidden")
    row = await load_proposal(session, principal=principal, proposal_id=proposal_id)
    now = utcnow()
    values: dict[str, Any] = {"updated_at": now}
    transition: str = action.value
    if action == ProposalAction.SUBMIT:
        transition = submit_action(row["status"], row["channel"], settings.direct_entry_channels)
        values |= {"submitted_at": now, "cycle": cycle_of(now, settings.proposal_cutoff_day)}
    advance(PROPOSAL_MACHINE, row["status"], transition)  # an illegal action is a 409 before anything else
    if action == ProposalAction.DISCUSS:
        values["muskel_id"] = await _muskel_for(session, row, body.muskel_id)
    elif action == ProposalAction.MUSKEL_APPROVE:
        await _require_signed_minutes(session, row)
    elif action == ProposalAction.MUSKEL_REJECT:
        values["reason_code"] = body.reason_code or "muskel_rejected"
    elif action == ProposalAction.RETURN:
        if body.comment is None:
            raise ProblemError(422, "Returning a proposal needs a comment.", code="comment_required")
        values["review_comment"] = body.comment
    moved = await guarded.move(session, proposal, PROPOSAL_MACHINE, row, transition, values)
    if moved["status"] == "complete":
        moved = await schedule_ground_check(session, settings=settings, row=moved)
    return moved


async def schedule_ground_check(
    session: AsyncSession, *, settings: VerificationSettings, row: dict[str, Any]
) -> dict[str, Any]:
    """A complete proposal gets its ground check (or joins the family's open one): → ground_check_scheduled."""
    check_id, _ = await checks.open_check(
        session,
        settings=settings,
        household_id=row["household_id"],
        kecamatan_code=row["kecamatan_code"],
        kelurahan_code=row["kelurahan_code"],
        reason=CheckReason.PROPOSAL,
        origin_ref=f"proposal:{row['id']}",
    )
    return await guarded.move(
        session, proposal, PROPOSAL_MACHINE, row, "schedule", {"ground_check_id": check_id, "updated_at": utcnow()}
    )


async def _muskel_for(session: AsyncSession, row: dict[str, Any], muskel_id: int | None) -> int:
    if muskel_id is None:
        raise ProblemError(422, "Discussing a proposal names the muskel.", code="muskel_required")
    record = await guarded.load(session, muskel, muskel_id)
    if record is None or record["kelurahan_code"] != row["kelurahan_code"]:
        raise ProblemError(
            422, f"No muskel {muskel_id} in kelurahan {row['kelurahan_code']}.", code="muskel_not_in_kelurahan"
        )
    return muskel_id


async def _require_signed_minutes(session: AsyncSession, row: dict[str, Any]) -> None:
    record = await guarded.load(session, muskel, row["muskel_id"]) if row["muskel_id"] else None
    if record is None or record["minutes_signed_at"] is None:
        raise ProblemError(
            409,
            f"Muskel {row['muskel_id']} has no signed minutes attached yet.",
            code="minutes_missing",
            current_state=row["status"],
        )


def to_out(row: dict[str, Any]) -> ProposalOut:
    """Response body of a proposal."""
    fields = {k: row[k] for k in ProposalOut.model_fields if k in row}
    return ProposalOut(**fields, allowed_actions=PROPOSAL_MACHINE.allowed(row["status"]))


async def list_proposals(
    session: AsyncSession,
    *,
    principal: Principal,
    status: str | None,
    cycle: str | None,
    kind: str | None,
    kelurahan_code: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """A page of proposals in the caller's scope and the total."""
    c = proposal.c
    where: list[Any] = [within_scope(c.kelurahan_code, principal)]
    if status:
        where.append(c.status == status)
    if cycle:
        where.append(c.cycle == cycle)
    if kind:
        where.append(c.kind == kind)
    if kelurahan_code:
        where.append(within(c.kelurahan_code, kelurahan_code))
    total = (await session.execute(select(func.count()).select_from(proposal).where(*where))).scalar_one()
    rows = await session.execute(select(proposal).where(*where).order_by(c.id).limit(limit).offset(offset))
    return [dict(r._mapping) for r in rows], int(total)


async def status_counts(session: AsyncSession, *, principal: Principal, cycle: str | None) -> dict[str, int]:
    """Proposals by state in the caller's scope."""
    c = proposal.c
    where: list[Any] = [within_scope(c.kelurahan_code, principal)]
    if cycle:
        where.append(c.cycle == cycle)
    rows = await session.execute(select(c.status, func.count()).where(*where).group_by(c.status))
    return {s: int(n) for s, n in rows}


async def record_muskel(session: AsyncSession, *, principal: Principal, body: MuskelIn) -> MuskelOut:
    """Record a kelurahan deliberation."""
    ensure_covers(principal, body.kelurahan_code, what="muskel")
    new_id = (
        await session.execute(
            insert(muskel)
            .values(
                kecamatan_code=kecamatan_of(body.kelurahan_code),
                kelurahan_code=body.kelurahan_code,
                held_on=body.held_on,
                recorded_by=principal.subject,
                created_at=utcnow(),
            )
            .returning(muskel.c.id)
        )
    ).scalar_one()
    return await muskel_out(session, principal=principal, muskel_id=int(new_id))


async def attach_to_muskel(
    session: AsyncSession, *, principal: Principal, muskel_id: int, ref: DocumentRef
) -> MuskelOut:
    """Attach the signed minutes or the by-name-by-address list (references only)."""
    record = await guarded.load(session, muskel, muskel_id)
    if record is None or not principal.covers(record["kelurahan_code"]):
        raise not_found("muskel", muskel_id)
    await require_stored(session, hashes=[ref.sha256], field="document")
    await attachments.attach(session, owner_kind="muskel", owner_id=muskel_id, ref=ref, by=principal.subject)
    if ref.role == "minutes":
        await session.execute(muskel.update().where(muskel.c.id == muskel_id).values(minutes_signed_at=utcnow()))
    return await muskel_out(session, principal=principal, muskel_id=muskel_id)


async def muskel_out(session: AsyncSession, *, principal: Principal, muskel_id: int) -> MuskelOut:
    """A muskel record with its documents."""
    record = await guarded.load(session, muskel, muskel_id)
    if record is None or not principal.covers(record["kelurahan_code"]):
        raise not_found("muskel", muskel_id)
    docs = await attachments.attachments_of(session, owner_kind="muskel", owner_id=muskel_id)
    return MuskelOut(
        **{k: record[k] for k in MuskelOut.model_fields if k in record},
        attachments=[AttachmentOut(**{k: d[k] for k in AttachmentOut.model_fields}) for d in docs],
    )
