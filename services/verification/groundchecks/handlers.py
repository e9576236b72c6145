"""Consumer of disbursement.payment.v1: a payment that failed because the family was not found or died opens a check."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification.groundchecks import service as checks
from services.verification.groundchecks.models import parked_payment_failure
from services.verification.groundchecks.rules import PAYMENT_FAILURES_TO_CHECK, CheckReason
from services.verification.households.models import Household
from services.verification.settings import VerificationSettings
from shared.events.envelope import EventEnvelope, utcnow
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
            # The payment topic is not ordered against the household topic: park the failure, and the family's
            # first household event opens the check (see apply_parked_payment_failures).
            await park_payment_failure(session, line.household_id, line.line_id, str(line.failure_reason))
            return
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


async def park_payment_failure(session: AsyncSession, household_id: str, line_id: str, reason: str) -> None:
    """Keep a failure for a family not known yet (a repeated one is kept once)."""
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    await session.execute(
        insert(parked_payment_failure)
        .values(line_id=line_id, household_id=household_id, failure_reason=reason, parked_at=utcnow())
        .on_conflict_do_nothing(index_elements=["line_id"])
    )


async def apply_parked_payment_failures(
    session: AsyncSession, settings: VerificationSettings, family: Household, *, open_checks: bool
) -> None:
    """Open the checks of failures that arrived before the family did, then forget them."""
    t = parked_payment_failure
    line_ids = (
        (
            await session.execute(
                select(t.c.line_id).where(t.c.household_id == family.household_id).order_by(t.c.line_id)
            )
        )
        .scalars()
        .all()
    )
    if not line_ids:
        return
    if open_checks:
        for line_id in line_ids:
            await checks.open_check(
                session,
                settings=settings,
                household_id=family.household_id,
                kecamatan_code=family.kecamatan_code,
                kelurahan_code=family.kelurahan_code,
                reason=CheckReason.PAYMENT_FAILED,
                origin_ref=f"payment:{line_id}",
            )
    await session.execute(delete(t).where(t.c.household_id == family.household_id))
