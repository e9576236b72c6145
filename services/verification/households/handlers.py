"""Consumers of registry.household.v1 for the verification service."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification.households.repository import upsert_household
from shared.events.envelope import EventEnvelope
from shared.events.household import HouseholdEventType, HouseholdState
from shared.inbox.consumer import Handler, PermanentEventError


async def on_household_event(session: AsyncSession, envelope: EventEnvelope) -> None:
    """Keep the read model in step with the registry."""
    try:
        state = HouseholdState.model_validate(envelope.data)
    except ValidationError as exc:
        raise PermanentEventError(f"invalid household payload: {exc.errors()[:3]}") from exc
    if state.household_id != envelope.subject:
        raise PermanentEventError("payload household_id differs from the event subject")
    await upsert_household(session, state, envelope)


HANDLERS: dict[str, Handler] = {t.value: on_household_event for t in HouseholdEventType}
