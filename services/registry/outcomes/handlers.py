"""Consumer of verification.outcome.v1: a ground check's outcome sets the family's data status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.families.changes import Actor, ChangeSet, finish, set_status
from services.registry.families.models import family
from services.registry.families.recipient import set_recipient
from services.registry.families.rules import status_from_outcome
from services.registry.families.state import load_facts
from shared.auth.principal import Principal, Role
from shared.events.envelope import EventEnvelope
from shared.events.household import VerificationEventType, VerificationOutcome
from shared.events.recipient import RecipientChangeApproved
from shared.http.problems import ProblemError
from shared.inbox.consumer import BatchHandler, Handler, PermanentEventError
from shared.inbox.payload import event_payload

VERIFICATION_ACTOR = Actor("verification", "system")


def _aware(value: datetime) -> datetime:
    # SQLite hands timestamps back without a zone; they were stored in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def is_stale(verified_at: datetime, last_verified_at: datetime | None) -> bool:
    """An outcome no newer than the last one applied changes nothing."""
    return last_verified_at is not None and _aware(verified_at) <= _aware(last_verified_at)


def _parse(envelope: EventEnvelope) -> VerificationOutcome:
    return event_payload(VerificationOutcome, envelope, what="verification")


async def on_verification_completed(session: AsyncSession, envelopes: Sequence[EventEnvelope]) -> None:
    """layak → active, tidak layak → inactive with the reason; duplicates are absorbed by the inbox,
    older outcomes (by verified_at) are ignored.

    A run of outcomes is applied together: one locking read, one facts load and one `finish` for all the
    families, so a campaign's thousands of approvals do not cost a full unit of work each. A bad event fails
    the run, and the consumer then applies the events one by one to isolate it."""
    outcomes = [(_parse(e), e) for e in envelopes]
    ids = sorted({o.household_id for o, _ in outcomes})
    rows = (
        await session.execute(
            select(family.c.id, family.c.last_verified_at).where(family.c.id.in_(ids)).with_for_update()
        )
    ).all()
    last: dict[str, datetime | None] = {r.id: r.last_verified_at for r in rows}
    unknown = [i for i in ids if i not in last]
    if unknown:
        raise PermanentEventError(f"unknown household {unknown[0]}")
    applied: dict[str, list[tuple[VerificationOutcome, EventEnvelope]]] = {}
    for outcome, envelope in outcomes:
        if is_stale(outcome.verified_at, last[outcome.household_id]):
            continue
        last[outcome.household_id] = outcome.verified_at
        applied.setdefault(outcome.household_id, []).append((outcome, envelope))
    if not applied:
        return
    await session.execute(
        update(family).where(family.c.id == bindparam("fid")).values(last_verified_at=bindparam("verified")),
        [{"fid": fid, "verified": last[fid]} for fid in applied],
    )
    facts = await load_facts(session, list(applied))
    changes = ChangeSet()
    status_rows = []
    for fid, items in applied.items():
        fam = facts[fid]
        changes.touch(fid)
        for outcome, _ in items:
            decision = status_from_outcome(outcome.outcome, outcome.reason, fam.row["existence_status"])
            why = f"ground check {outcome.check_id}: {outcome.outcome}"
            if set_status(fam, changes, decision.data_status, decision.reason, decision.existence_status, why=why):
                # The status was decided by the ground check: later rules must start from it, not re-derive it.
                changes.by_family[fid][-1].change["check_id"] = outcome.check_id
        status_rows.append(
            {
                "fid": fid,
                "data_status": fam.row["data_status"],
                "status_reason": fam.row["status_reason"],
                "existence_status": fam.row["existence_status"],
            }
        )
    await session.execute(
        update(family)
        .where(family.c.id == bindparam("fid"))
        .values(
            data_status=bindparam("data_status"),
            status_reason=bindparam("status_reason"),
            existence_status=bindparam("existence_status"),
        ),
        status_rows,
    )
    await finish(
        session,
        changes,
        VERIFICATION_ACTOR,
        causation_by_family={fid: items[-1][1].event_id for fid, items in applied.items()},
    )


async def on_recipient_change_approved(session: AsyncSession, envelope: EventEnvelope) -> None:
    """A verified recipient_change usulan names the family's recipient (a repeat of the same change is a no-op)."""
    approved = event_payload(RecipientChangeApproved, envelope, what="recipient change")
    # Verification checked the wilayah when the usulan was made; the registry acts within the family's own.
    principal = Principal(subject=VERIFICATION_ACTOR.subject, role=Role.SYSTEM, wilayah=approved.kelurahan_code)
    try:
        await set_recipient(
            session,
            family_id=approved.household_id,
            member_id=approved.member_id,
            reason=f"recipient_change usulan {approved.proposal_id} verified",
            expected_version=None,
            principal=principal,
            actor=VERIFICATION_ACTOR,
            versioned=False,
        )
    except ProblemError as exc:
        # Not in the family, a minor, died since: nothing retrying can fix; it stays visible as a dead letter.
        raise PermanentEventError(f"recipient change refused: {exc.detail} {exc.errors or ''}") from exc


HANDLERS: dict[str, Handler | BatchHandler] = {
    VerificationEventType.COMPLETED.value: BatchHandler(on_verification_completed),
    VerificationEventType.RECIPIENT_CHANGE_APPROVED.value: on_recipient_change_approved,
}
