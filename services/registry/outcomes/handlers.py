"""Consumer of verification.outcome.v1: a ground check's outcome sets the family's data status."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.families.changes import Actor, ChangeSet, finish, set_status
from services.registry.families.models import family
from services.registry.families.rules import status_from_outcome
from services.registry.families.state import load_facts
from shared.events.envelope import EventEnvelope
from shared.events.household import VerificationEventType, VerificationOutcome
from shared.inbox.consumer import Handler, PermanentEventError

VERIFICATION_ACTOR = Actor("verification", "system")


def _aware(value: datetime) -> datetime:
    # SQLite hands timestamps back without a zone; they were stored in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def is_stale(verified_at: datetime, last_verified_at: datetime | None) -> bool:
    """An outcome no newer than the last one applied changes nothing."""
    return last_verified_at is not None and _aware(verified_at) <= _aware(last_verified_at)


async def on_verification_completed(session: AsyncSession, envelope: EventEnvelope) -> None:
    """layak → active, tidak layak → inactive with the reason; duplicates are absorbed by the inbox,
    older outcomes (by verified_at) are ignored."""
    try:
        outcome = VerificationOutcome.model_validate(envelope.data)
    except ValidationError as exc:
        raise PermanentEventError(f"invalid verification payload: {exc.errors()[:3]}") from exc
    if outcome.household_id != envelope.subject:
        raise PermanentEventError("payload household_id differs from the event subject")
    row = (
        await session.execute(
            select(family.c.id, family.c.last_verified_at).where(family.c.id == outcome.household_id).with_for_update()
        )
    ).first()
    if row is None:
        raise PermanentEventError(f"unknown household {outcome.household_id}")
    if is_stale(outcome.verified_at, row.last_verified_at):
        return
    await session.execute(
        update(family).where(family.c.id == outcome.household_id).values(last_verified_at=outcome.verified_at)
    )
    fam = (await load_facts(session, [outcome.household_id]))[outcome.household_id]
    decision = status_from_outcome(outcome.outcome, outcome.reason, fam.row["existence_status"])
    changes = ChangeSet()
    changes.touch(outcome.household_id)
    why = f"ground check {outcome.check_id}: {outcome.outcome}"
    if set_status(fam, changes, decision.data_status, decision.reason, decision.existence_status, why=why):
        await session.execute(
            update(family)
            .where(family.c.id == outcome.household_id)
            .values(
                data_status=decision.data_status.value,
                status_reason=decision.reason,
                existence_status=decision.existence_status,
            )
        )
        # The status was decided by the ground check: later rules must start from it, not re-derive it.
        changes.by_family[outcome.household_id][-1].change["check_id"] = outcome.check_id
    await finish(session, changes, VERIFICATION_ACTOR, causation_id=envelope.event_id)


HANDLERS: dict[str, Handler] = {VerificationEventType.COMPLETED.value: on_verification_completed}
