"""Event handlers that queue notifications, added next to the handlers a service already has for the same events.

Payment line status (at_payer: payment scheduled; failed: what to do), a family's new `member_needs_correction`
flag (data correction needed). Complaints tell their complainant directly (`service.tell_complainant`, in the
complaint's own transaction): verification does not consume the topic it publishes them on."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification.households.models import Household
from services.verification.households.repository import previous_state
from services.verification.notifications.rules import (
    NotificationTemplate,
    failure_values,
    payment_template,
)
from services.verification.notifications.service import notify
from services.verification.settings import VerificationSettings
from shared.events.envelope import EventEnvelope
from shared.events.household import HouseholdEventType, HouseholdState
from shared.events.payment import PaymentEventType, PaymentLineStatus
from shared.events.vocabulary import FlagKind
from shared.inbox.consumer import BatchHandler, Handler, PermanentEventError


def notification_handlers(
    settings: VerificationSettings, existing: Mapping[str, Handler | BatchHandler]
) -> dict[str, Handler | BatchHandler]:
    """`existing` with the notification handlers added: each runs after the existing handler of its event type,
    in the same transaction (the inbox row, the effect and the queued notification commit together)."""

    async def on_payment(session: AsyncSession, envelope: EventEnvelope) -> None:
        try:
            line = PaymentLineStatus.model_validate(envelope.data)
        except ValidationError as exc:
            raise PermanentEventError(f"invalid payment payload: {exc.errors()[:3]}") from exc
        template = payment_template(line.status)
        if template is None:
            return
        values = {
            "programme": line.programme_code,
            # Events from before the label was carried name no tahap a family would recognise.
            "tahap": line.tahap_label or "berjalan",
            "payer": settings.notify_payers.get(line.programme_code, settings.notify_default_payer),
            **failure_values(line.failure_reason),
        }
        # Keyed by line and status, not event id: a line re-announced in the same status is not news.
        await notify(
            session,
            settings=settings,
            event_id=f"payment:{line.line_id}:{line.status}",
            recipient_id=line.household_id,
            template=template,
            values=values,
        )

    added: dict[str, list[Handler]] = {
        PaymentEventType.LINE_STATUS_CHANGED.value: [on_payment],
    }
    out: dict[str, Handler | BatchHandler] = dict(existing)
    for event_type, handlers in added.items():
        out[event_type] = _chain(existing.get(event_type), handlers)
    for t in HouseholdEventType:
        out[t.value] = _correction_notice(settings, existing.get(t.value))
    return out


def _plain(handler: Handler | BatchHandler | None) -> Handler | None:
    if isinstance(handler, BatchHandler):
        raise TypeError("a batch handler cannot be chained with notifications")
    return handler


def _chain(existing: Handler | BatchHandler | None, then: list[Handler]) -> Handler:
    first = _plain(existing)

    async def chained(session: AsyncSession, envelope: EventEnvelope) -> None:
        if first is not None:
            await first(session, envelope)
        for handler in then:
            await handler(session, envelope)

    return chained


def _correction_notice(settings: VerificationSettings, existing: Handler | BatchHandler | None) -> Handler:
    """Wrap a household handler: when the event newly raises `member_needs_correction`, tell the family."""
    first = _plain(existing)

    async def wrapped(session: AsyncSession, envelope: EventEnvelope) -> None:
        before = await previous_state(session, envelope.subject)
        if first is not None:
            await first(session, envelope)
        try:
            state = HouseholdState.model_validate(envelope.data)
        except ValidationError:
            return  # the read-model handler already refused it
        family = await session.get(Household, state.household_id)
        if family is None or family.last_event_id != str(envelope.event_id):
            return  # stale or repeated version: the read model kept the newer one
        kind = FlagKind.MEMBER_NEEDS_CORRECTION.value
        if kind in state.open_flags and (before is None or kind not in before[0]):
            await notify(
                session,
                settings=settings,
                event_id=f"household:{state.household_id}:v{envelope.aggregate_version}",
                recipient_id=state.household_id,
                template=NotificationTemplate.DATA_CORRECTION,
                values={},
            )

    return wrapped
