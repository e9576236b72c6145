"""Consumers of registry.household.v1 and verification.outcome.v1 for the disbursement service: they update the
household read model, then hold or release payment lines (so they sit above both features)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.households.repository import record_outcome, upsert_household
from services.disbursement.payments.holds import hold_unpaid_lines
from services.disbursement.payments.recipient_holds import hold_for_dead_recipient, release_recipient_holds
from shared.events.envelope import EventEnvelope
from shared.events.household import HouseholdEventType, HouseholdState, VerificationEventType, VerificationOutcome
from shared.inbox.consumer import Handler
from shared.inbox.payload import event_payload


async def on_household_event(session: AsyncSession, envelope: EventEnvelope) -> None:
    """Keep household_status in step with the registry; hold frozen unpaid lines the change disqualifies."""
    state = event_payload(HouseholdState, envelope, what="household")
    applied = await upsert_household(
        session, state, version=envelope.aggregate_version, occurred_at=envelope.occurred_at
    )
    if applied:
        cause = str(envelope.event_id)
        # Released first, so that a rule which now disqualifies the family holds the line for its own reason.
        await release_recipient_holds(session, household_id=state.household_id, causation_id=cause)
        await hold_unpaid_lines(session, household_id=state.household_id, causation_id=cause)
        await hold_for_dead_recipient(session, household_id=state.household_id, causation_id=cause)


async def on_verification_completed(session: AsyncSession, envelope: EventEnvelope) -> None:
    """Record the last approved ground-check outcome (and hold lines of a family found tidak layak)."""
    outcome = event_payload(VerificationOutcome, envelope, what="verification", subject_field=None)
    if await record_outcome(session, outcome):
        await hold_unpaid_lines(session, household_id=outcome.household_id, causation_id=str(envelope.event_id))


HANDLERS: dict[str, Handler] = {
    **{t.value: on_household_event for t in HouseholdEventType},
    VerificationEventType.COMPLETED.value: on_verification_completed,
}
