"""Consumers of registry.household.v1 and programme events: keep the read model, and open ground checks on new flags
and desil crossings (so they sit above both the households and the ground-check features)."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification.groundchecks import service as checks
from services.verification.groundchecks.handlers import apply_parked_payment_failures
from services.verification.groundchecks.rules import (
    CheckReason,
    desil_crossings,
    desil_thresholds,
    flag_reason,
    new_flags,
)
from services.verification.households.models import Household
from services.verification.households.repository import (
    previous_state,
    programme_bands,
    replace_flags,
    replace_member_digests,
    upsert_household,
    upsert_programme_band,
)
from services.verification.settings import VerificationSettings
from shared.events.envelope import EventEnvelope, utcnow
from shared.events.household import DataStatus, HouseholdEventType, HouseholdState
from shared.events.programme import ProgrammeEventType, ProgrammeRulePublished
from shared.inbox.consumer import Handler, PermanentEventError


async def apply_household_event(session: AsyncSession, envelope: EventEnvelope, settings: VerificationSettings) -> None:
    """Apply one household event (inbox-less: replay calls this directly with the same envelopes)."""
    try:
        state = HouseholdState.model_validate(envelope.data)
    except ValidationError as exc:
        raise PermanentEventError(f"invalid household payload: {exc.errors()[:3]}") from exc
    if state.household_id != envelope.subject:
        raise PermanentEventError("payload household_id differs from the event subject")
    # Read what we knew before, in the same transaction, so "new flag" and "desil crossed" are judged exactly once.
    before = await previous_state(session, state.household_id)
    if not await upsert_household(session, state, envelope):
        return  # stale or repeated version: nothing changed, nothing to trigger
    await replace_flags(session, state.household_id, state.open_flags)
    if state.member_digests is not None:  # an event from before the field: keep the digests we have
        await replace_member_digests(session, state.household_id, state.member_digests)
    if before is None:
        family = await session.get(Household, state.household_id)
        if family is not None:
            await apply_parked_payment_failures(
                session, settings, family, open_checks=state.data_status != DataStatus.INACTIVE
            )
    if state.data_status == DataStatus.INACTIVE:
        return
    old_flags, old_desil = before if before is not None else ([], None)
    reasons = [flag_reason(k) for k in new_flags(old_flags, state.open_flags, settings.flag_check_kinds)]
    thresholds = desil_thresholds(await programme_bands(session), today_wib(), settings.desil_thresholds)
    if desil_crossings(old_desil, state.desil, thresholds):
        reasons.append(CheckReason.DESIL_CROSSING)
    for reason in reasons:
        await checks.open_check(
            session,
            settings=settings,
            household_id=state.household_id,
            kecamatan_code=state.kecamatan_code,
            kelurahan_code=state.kelurahan_code,
            reason=reason,
            origin_ref=f"event:{envelope.event_id}",
        )


def today_wib() -> date:
    """Today in Padang (WIB, UTC+7): the day rule versions are in force on."""
    return (utcnow() + timedelta(hours=7)).date()


async def on_rule_published(session: AsyncSession, envelope: EventEnvelope) -> None:
    """Keep the programmes' desil bands that decide which desil moves open a ground check."""
    try:
        rule = ProgrammeRulePublished.model_validate(envelope.data)
    except ValidationError as exc:
        raise PermanentEventError(f"invalid programme rule payload: {exc.errors()[:3]}") from exc
    await upsert_programme_band(session, rule)


def household_handlers(settings: VerificationSettings) -> dict[str, Handler]:
    """Handlers of every household event type, bound to the service's settings."""

    async def on_household_event(session: AsyncSession, envelope: EventEnvelope) -> None:
        await apply_household_event(session, envelope, settings)

    return {
        **{t.value: on_household_event for t in HouseholdEventType},
        ProgrammeEventType.RULE_PUBLISHED.value: on_rule_published,
    }
