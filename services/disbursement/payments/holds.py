"""Holding unpaid lines: of a family that lost its eligibility after the list was frozen (an officer decides),
and of a family with a holding flag of the programme rule (released by the system once the flag clears)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, case, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.households.models import household_status
from services.disbursement.households.repository import get_household, inputs_from_row
from services.disbursement.payments.events import emit_line_status
from services.disbursement.payments.models import payment_line
from services.disbursement.payments.rules import UNPAID
from services.disbursement.programmes.eligibility import has_flag
from services.disbursement.programmes.models import rule_version
from services.disbursement.programmes.rules import FLAG_HOLD_REASONS, RuleDefinition, flag_hold_reason, hold_reason
from services.disbursement.tahap_state.models import tahap
from services.disbursement.tahap_state.rules import FROZEN
from shared.db.dialect import is_pg
from shared.events.envelope import utcnow
from shared.events.payment import PaymentLineStatusCode as S
from shared.events.vocabulary import HoldReason

payment_lines = payment_line.c
household_statuses = household_status.c
UNPAID_VALUES = sorted(s.value for s in UNPAID)
FLAG_HOLD_VALUES = sorted(r.value for r in FLAG_HOLD_REASONS)
SYSTEM = "system"


async def hold_unpaid_lines(session: AsyncSession, *, household_id: str, causation_id: str | None) -> int:
    """Bring this family's lines of frozen tahap in line with their rule now: hold unpaid lines it disqualifies
    or flags, re-word or release flag holds; returns how many lines changed."""
    lines = (
        await session.execute(
            select(
                payment_lines.line_id,
                payment_lines.status,
                payment_lines.hold_reason,
                tahap.c.as_of,
                rule_version.c.definition,
            )
            .join(tahap, tahap.c.id == payment_lines.tahap_id)
            .join(rule_version, rule_version.c.id == tahap.c.rule_version_id)
            .where(
                payment_lines.household_id == household_id,
                or_(
                    payment_lines.status.in_(UNPAID_VALUES),
                    and_(payment_lines.status == S.ON_HOLD.value, payment_lines.hold_reason.in_(FLAG_HOLD_VALUES)),
                ),
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
    hold: dict[str, list[int]] = defaultdict(list)
    reword: dict[str, list[int]] = defaultdict(list)
    release: list[int] = []
    rules: dict[tuple[str, date], str | None] = {}
    for line_id, status, current, as_of, definition in lines:
        key = (definition, as_of)
        if key not in rules:
            rules[key] = hold_reason(RuleDefinition.model_validate_json(definition), family, as_of=as_of)
        why = rules[key]
        if status != S.ON_HOLD.value:
            if why is not None:
                hold[why].append(line_id)
        elif why is None:
            release.append(line_id)
        elif why != current:
            reword[why].append(line_id)
    now = utcnow()
    changed: list[int] = []
    for reason, ids in hold.items():
        changed += await _update(
            session,
            ids,
            UNPAID_VALUES,
            held_from=payment_lines.status,
            status=S.ON_HOLD.value,
            hold_reason=reason,
            version=payment_lines.version + 1,
            updated_at=now,
        )
    for reason, ids in reword.items():
        changed += await _update(
            session, ids, [S.ON_HOLD.value], hold_reason=reason, version=payment_lines.version + 1, updated_at=now
        )
    if release:
        changed += await _update(
            session,
            release,
            [S.ON_HOLD.value],
            status=payment_lines.held_from,
            held_from=None,
            hold_reason=None,
            decided_by=SYSTEM,
            decision_reason="holding flags cleared",
            version=payment_lines.version + 1,
            updated_at=now,
        )
    if changed:
        await emit_line_status(session, payment_lines.line_id.in_(changed), causation_id=causation_id)
    return len(changed)


async def _update(session: AsyncSession, ids: list[int], statuses: list[str], **values: object) -> list[int]:
    result = await session.execute(
        update(payment_line)
        .where(payment_lines.line_id.in_(ids), payment_lines.status.in_(statuses))
        .values(**values)
        .returning(payment_lines.line_id)
    )
    return list(result.scalars().all())


def flag_hold_expression(pg: bool, rule: RuleDefinition) -> ColumnElement[str] | None:
    """The hold reason of a family of the read model for the rule's holding flags as SQL (`flag_hold_reason`),
    NULL without one; None when the rule holds on no flag."""
    kinds = sorted(set(rule.holding_flags))
    if not kinds:
        return None

    def flagged(kind: str) -> ColumnElement[bool]:
        return or_(
            has_flag(pg, household_statuses.open_flags, kind), has_flag(pg, household_statuses.confirmed_flags, kind)
        )

    named = [k for k in kinds if flag_hold_reason([k]) != HoldReason.HOLDING_FLAG]
    whens = [(flagged(k), literal(k)) for k in named]
    whens.append((or_(*(flagged(k) for k in kinds)), literal(HoldReason.HOLDING_FLAG.value)))
    return case(*whens, else_=None)


async def sync_flag_holds(session: AsyncSession, *, tahap_id: str, rule: RuleDefinition, now: datetime) -> None:
    """At list generation: hold the planned lines of families with a holding flag, release flag holds of
    families without one any more (set-based; no events, as planned lines are not announced either)."""
    why = flag_hold_expression(is_pg(session), rule)
    flag_held = and_(
        payment_lines.tahap_id == tahap_id,
        payment_lines.status == S.ON_HOLD.value,
        payment_lines.hold_reason.in_(FLAG_HOLD_VALUES),
    )
    if why is None:
        await session.execute(
            update(payment_line)
            .where(flag_held)
            .values(status=payment_lines.held_from, held_from=None, hold_reason=None, decided_by=SYSTEM, updated_at=now)
        )
        return
    reason = select(why).where(household_statuses.household_id == payment_lines.household_id).scalar_subquery()
    flagged = (
        select(household_statuses.household_id)
        .where(household_statuses.household_id == payment_lines.household_id, why.is_not(None))
        .exists()
    )
    await session.execute(
        update(payment_line)
        .where(flag_held, ~flagged)
        .values(
            status=payment_lines.held_from,
            held_from=None,
            hold_reason=None,
            decided_by=SYSTEM,
            decision_reason="holding flags cleared",
            updated_at=now,
        )
    )
    await session.execute(
        update(payment_line)
        .where(payment_lines.tahap_id == tahap_id, payment_lines.status == S.PLANNED.value, flagged)
        .values(held_from=payment_lines.status, status=S.ON_HOLD.value, hold_reason=reason, updated_at=now)
    )
