"""Consumers of registry.household.v1 and verification.outcome.v1 for the disbursement service: they update the
household read model, then hold or release payment lines (so they sit above both features); a complaint that asks
about a payment line puts it in the tahap's break queue."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.households.repository import record_outcome, upsert_household
from services.disbursement.payments.holds import hold_unpaid_lines
from services.disbursement.payments.recipient_holds import hold_for_dead_recipient, release_recipient_holds
from services.disbursement.reconciliation.repository import queue_complaint_break
from shared.events.complaint import ComplaintEvent, ComplaintEventType
from shared.events.envelope import EventEnvelope
from shared.events.household import HouseholdEventType, HouseholdState, VerificationEventType, VerificationOutcome
from shared.inbox.consumer import Handler
from shared.inbox.payload import event_payload

log = logging.getLogger(__name__)


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


# What a complaint's action asks of disbursement, as the kind of break-queue entry it becomes.
COMPLAINT_BREAK_KINDS = {"reconciliation_break": "complaint", "payer_inquiry": "payer_inquiry"}


async def on_complaint_action(session: AsyncSession, envelope: EventEnvelope) -> None:
    """A complaint's 'reconciliation break' or 'payer inquiry' becomes an open entry of the tahap's break queue,
    where the staff who reconcile with the payer work (verification may not write disbursement's tables)."""
    complaint = event_payload(ComplaintEvent, envelope, what="complaint", subject_field=None)
    kind = COMPLAINT_BREAK_KINDS.get(complaint.action or "")
    if kind is None or complaint.payment_line_id is None or not complaint.payment_line_id.isdigit():
        return  # a ground check or usulan: verification's own business
    added = await queue_complaint_break(
        session,
        line_id=int(complaint.payment_line_id),
        kind=kind,
        reference=complaint.reference,
        detected_at=complaint.occurred_at,
    )
    if not added:
        log.info(
            "complaint %s: payment line %s already queued or unknown", complaint.reference, complaint.payment_line_id
        )


HANDLERS: dict[str, Handler] = {
    **{t.value: on_household_event for t in HouseholdEventType},
    VerificationEventType.COMPLETED.value: on_verification_completed,
    ComplaintEventType.ACTION_TAKEN.value: on_complaint_action,
}
