"""Consumer of disbursement.payment.v1: a payment that failed because the family was not found or died opens a check."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification.groundchecks import service as checks
from services.verification.groundchecks.rules import PAYMENT_FAILURES_TO_CHECK, CheckReason
from services.verification.households.models import Household
from services.verification.settings import VerificationSettings
from shared.events.envelope import EventEnvelope
from shared.events.payment import PaymentEventType, PaymentLineStatus, PaymentLineStatusCode
from shared.inbox.consumer import Handler, PermanentEventError


def payment_handlers(settings: VerificationSettings) -> dict[str, Handler]:
    """Handlers of the payment events verification cares about."""

    async def on_line_status(session: AsyncSession, envelope: EventEnvelope) -> None:
        try:
            line = PaymentLineStatus.model_validate(envelope.data)
        except ValidationError as exc:
            raise PermanentEventError(f"invalid payment payload: {exc.errors()[:3]}") from exc
        if line.status != PaymentLineStatusCode.FAILED or line.failure_reason not in PAYMENT_FAILURES_TO_CHECK:
            return
        family = await session.get(Household, line.household_id)
        if family is None:
            # Dead-lettered, not dropped: once the family reaches the read model, dlq-replay opens the check.
            raise PermanentEventError(f"family {line.household_id} is not in the read model yet")
        await checks.open_check(
            session,
            settings=settings,
            household_id=family.household_id,
            kecamatan_code=family.kecamatan_code,
            kelurahan_code=family.kelurahan_code,
            reason=CheckReason.PAYMENT_FAILED,
            origin_ref=f"payment:{line.line_id}",
        )

    return {PaymentEventType.LINE_STATUS_CHANGED.value: on_line_status}
