"""Holding frozen, unpaid lines of a family that lost its eligibility after the list was generated."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.households.repository import get_household, inputs_from_row
from services.disbursement.payments.events import emit_line_status
from services.disbursement.payments.models import payment_line
from services.disbursement.payments.rules import UNPAID
from services.disbursement.programmes.models import rule_version
from services.disbursement.programmes.rules import RuleDefinition, hold_reason
from services.disbursement.tahap.models import tahap
from services.disbursement.tahap.rules import FROZEN
from shared.events.envelope import utcnow
from shared.events.payment import PaymentLineStatusCode as S

pl = payment_line.c
UNPAID_VALUES = sorted(s.value for s in UNPAID)


async def hold_unpaid_lines(session: AsyncSession, *, household_id: str, causation_id: str | None) -> int:
    """Put this family's unpaid lines of frozen tahap on hold when their rule now disqualifies it; returns count."""
    lines = (
        await session.execute(
            select(pl.line_id, tahap.c.as_of, rule_version.c.definition)
            .join(tahap, tahap.c.id == pl.tahap_id)
            .join(rule_version, rule_version.c.id == tahap.c.rule_version_id)
            .where(
                pl.household_id == household_id,
                pl.status.in_(UNPAID_VALUES),
                tahap.c.status.in_(sorted(FROZEN)),
            )
        )
    ).all()
    if not lines:
        return 0
    row = await get_household(session, household_id)
    if row is None or row["data_status"] is None:
        return 0
    family = inputs_from_row(row)
    by_reason: dict[str, list[int]] = defaultdict(list)
    rules: dict[tuple[str, date], str | None] = {}
    for line_id, as_of, definition in lines:
        key = (definition, as_of)
        if key not in rules:
            why = hold_reason(RuleDefinition.model_validate_json(definition), family, as_of=as_of)
            rules[key] = why.value if why else None
        code = rules[key]
        if code is not None:
            by_reason[code].append(line_id)
    held: list[int] = []
    for reason, ids in by_reason.items():
        result = await session.execute(
            update(payment_line)
            .where(pl.line_id.in_(ids), pl.status.in_(UNPAID_VALUES))
            .values(
                held_from=pl.status,
                status=S.ON_HOLD.value,
                hold_reason=reason,
                version=pl.version + 1,
                updated_at=utcnow(),
            )
            .returning(pl.line_id)
        )
        held.extend(result.scalars().all())
    if held:
        await emit_line_status(session, pl.line_id.in_(held), causation_id=causation_id)
    return len(held)
