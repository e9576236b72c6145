"""Holding a family's frozen, unpaid lines while its recipient is dead, and releasing them once the registry
names a new one (issue 12 item 4). Kept apart from the rule-driven holds in `holds`: recipient_deceased
holds whatever the programme's rule says, and only the registry's flag puts lines on or off this hold."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.households.models import household_status
from services.disbursement.households.repository import flags_of, get_household
from services.disbursement.payments.events import emit_line_status
from services.disbursement.payments.holds import UNPAID_VALUES
from services.disbursement.payments.models import payment_line
from services.disbursement.programmes.eligibility import has_flag
from services.disbursement.tahap_state.models import tahap
from services.disbursement.tahap_state.rules import FROZEN
from shared.db.dialect import is_pg
from shared.events.envelope import utcnow
from shared.events.payment import PaymentLineStatusCode as S
from shared.events.vocabulary import FlagKind, HoldReason

payment_lines = payment_line.c
SYSTEM = "system"


def _frozen_lines_of(household_id: str) -> ColumnElement[bool]:
    return and_(
        payment_lines.household_id == household_id,
        payment_lines.tahap_id.in_(select(tahap.c.id).where(tahap.c.status.in_(sorted(FROZEN)))),
    )


async def release_recipient_holds(session: AsyncSession, *, household_id: str, causation_id: str | None) -> int:
    """Lines held for a dead recipient go back where they were once the family has a living recipient."""
    row = await get_household(session, household_id)
    if row is None or FlagKind.RECIPIENT_DECEASED in flags_of(row["open_flags"]):
        return 0
    result = await session.execute(
        update(payment_line)
        .where(
            _frozen_lines_of(household_id),
            payment_lines.status == S.ON_HOLD.value,
            payment_lines.hold_reason == HoldReason.RECIPIENT_DECEASED.value,
        )
        .values(
            status=payment_lines.held_from,
            held_from=None,
            hold_reason=None,
            recipient_member_id=row["recipient_member_id"],
            decided_by=SYSTEM,
            decision_reason="a new recipient was named in the registry",
            version=payment_lines.version + 1,
            updated_at=utcnow(),
        )
        .returning(payment_lines.line_id)
    )
    released = list(result.scalars().all())
    if released:
        await emit_line_status(session, payment_lines.line_id.in_(released), causation_id=causation_id)
    return len(released)


async def hold_for_dead_recipient(session: AsyncSession, *, household_id: str, causation_id: str | None) -> int:
    """Put the family's frozen, unpaid lines on hold while its recipient_deceased flag is open; returns count."""
    row = await get_household(session, household_id)
    if row is None or FlagKind.RECIPIENT_DECEASED not in flags_of(row["open_flags"]):
        return 0
    return await _hold(
        session, and_(_frozen_lines_of(household_id), payment_lines.status.in_(UNPAID_VALUES)), causation_id
    )


async def hold_new_lines_of_dead_recipients(session: AsyncSession, *, tahap_id: str) -> int:
    """At generation: the planned lines of families whose recipient_deceased flag is open start on hold."""
    household_statuses = household_status.c
    dead = select(household_statuses.household_id).where(
        has_flag(is_pg(session), household_statuses.open_flags, FlagKind.RECIPIENT_DECEASED.value)
    )
    lines = and_(
        payment_lines.tahap_id == tahap_id,
        payment_lines.status == S.PLANNED.value,
        payment_lines.household_id.in_(dead),
    )
    return await _hold(session, lines, None)


async def _hold(session: AsyncSession, lines: ColumnElement[bool], causation_id: str | None) -> int:
    result = await session.execute(
        update(payment_line)
        .where(lines)
        .values(
            held_from=payment_lines.status,
            status=S.ON_HOLD.value,
            hold_reason=HoldReason.RECIPIENT_DECEASED.value,
            version=payment_lines.version + 1,
            updated_at=utcnow(),
        )
        .returning(payment_lines.line_id)
    )
    held = list(result.scalars().all())
    if held:
        await emit_line_status(session, payment_lines.line_id.in_(held), causation_id=causation_id)
    return len(held)
