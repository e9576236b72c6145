"""The eligibility rule as one set-based query over the read model (must agree with `rules.evaluate`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)

from services.disbursement.households.models import COMPOSITION, household_status
from services.disbursement.programmes.rules import (
    DECEASED_STATUS_REASONS,
    AmountFormula,
    Reason,
    RuleDefinition,
    verification_cutoff,
)
from shared.db.dialect import binary_order, least

household_statuses = household_status.c


def has_flag(pg: bool, column: Any, kind: str) -> ColumnElement[bool]:
    """SQL: the stored ",a,b," flag text holds `kind`."""
    # strpos/instr, not LIKE: flag kinds contain '_', a LIKE wildcard.
    needle = literal(f",{kind},")
    return (func.strpos(column, needle) if pg else func.instr(column, needle)) > 0


def amount_expression(pg: bool, formula: AmountFormula) -> ColumnElement[int]:
    """Rupiah per tahap as SQL over the composition columns (same arithmetic as `rules.amount_for`)."""
    if formula.kind == "flat":
        return literal(formula.amount, BigInteger)
    if formula.kind == "per_member":
        return literal(formula.amount, BigInteger) * household_statuses.members
    # The family cap M counts members in component order; with a_i the capped count of component i and S_i the
    # running sum, the members counted for i are min(S_i, M) - min(S_i-1, M): linear in the number of components.
    total: ColumnElement[Any] = literal(0, BigInteger)
    running: ColumnElement[Any] | None = None
    cap = formula.max_counted_members
    for comp in formula.components:
        col = household_statuses[comp.category]
        a = least(pg, col, literal(comp.max_count)) if comp.max_count is not None else col
        before = running
        running = a if running is None else running + a
        if cap is None:
            counted = a
        else:
            upto = least(pg, running, literal(cap))
            counted = upto if before is None else upto - least(pg, before, literal(cap))
        total = total + literal(comp.annual_amount, BigInteger) * counted
    # Integer division on both databases (all operands are integers).
    return total // literal(formula.periods_per_year, BigInteger)


def reason_expression(pg: bool, rule: RuleDefinition, as_of: date) -> ColumnElement[str]:
    """The first failing check as SQL, in the order of `rules.evaluate`."""
    disq = list(dict.fromkeys(rule.disqualifying_flags))
    deceased = and_(
        household_statuses.data_status == "inactive",
        household_statuses.status_reason.in_(sorted(DECEASED_STATUS_REASONS)),
    )
    whens: list[tuple[ColumnElement[bool], str]] = [
        (deceased, Reason.DECEASED.value),
        (household_statuses.data_status == "inactive", Reason.DATA_INACTIVE.value),
        (
            household_statuses.data_status.not_in([s.value for s in rule.required_data_status]),
            Reason.DATA_NOT_VERIFIED.value,
        ),
        (func.coalesce(household_statuses.last_outcome, "") == "tidak_layak", Reason.VERIFIED_TIDAK_LAYAK.value),
    ]
    if disq:
        whens.append(
            (or_(*(has_flag(pg, household_statuses.confirmed_flags, k) for k in disq)), Reason.EXCLUDED_FLAG.value)
        )
    whens += [
        (household_statuses.desil.is_(None), Reason.NO_DESIL.value),
        (household_statuses.desil > rule.desil_max, Reason.DESIL_ROSE.value),
        (household_statuses.desil < rule.desil_min, Reason.DESIL_BELOW_BAND.value),
    ]
    cutoff = verification_cutoff(rule, as_of)
    if cutoff is not None:
        since = datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=UTC)
        stale = or_(
            func.coalesce(household_statuses.last_outcome, "") != "layak",
            household_statuses.last_verified_at.is_(None),
            household_statuses.last_verified_at < since,
        )
        whens.append((stale, Reason.VERIFICATION_STALE.value))
    return case(*whens, else_=Reason.ELIGIBLE.value)


INPUT_COLUMNS = (
    "data_status",
    "status_reason",
    "desil",
    "desil_period",
    "confirmed_flags",
    "open_flags",
    "last_outcome",
    "last_verified_at",
    "version",
    *COMPOSITION,
)


def input_name(column: str) -> str:
    """The name a read-model column has among the frozen inputs (its `version` is the registry's)."""
    return "registry_version" if column == "version" else column


FROZEN_INPUTS = tuple(input_name(name) for name in INPUT_COLUMNS)


def _json_value(value: Any) -> Any:
    if not isinstance(value, datetime):
        return value
    # As PostgreSQL writes a timestamptz in JSON (fraction without trailing zeros); SQLite hands back naive UTC.
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    text = value.replace(microsecond=0).isoformat()
    if value.microsecond:
        text = text[:19] + f".{value.microsecond:06d}".rstrip("0") + text[19:]
    return text


def frozen_inputs(row: Mapping[Any, Any]) -> dict[str, Any]:
    """The inputs a family was judged on, from a row carrying the FROZEN_INPUTS columns (list row or ranking)."""
    return {name: _json_value(row[name]) for name in FROZEN_INPUTS}


def _order_by(pg: bool, rule: RuleDefinition, base: Any) -> list[Any]:
    order: list[Any] = [base.c.desil.asc()]
    for tb in rule.tie_breakers:
        if tb == "larger_family_first":
            order.append(base.c.members.desc())
        elif tb == "smaller_family_first":
            order.append(base.c.members.asc())
        elif tb == "older_verification_first":
            order.append(base.c.last_verified_at.asc().nulls_last())
        else:
            order.append(base.c.last_verified_at.desc().nulls_last())
    order.append(binary_order(pg, base.c.household_id).asc())
    return order


def ranked_query(pg: bool, rule: RuleDefinition, as_of: date, *, with_inputs: bool = True) -> Select[Any]:
    """Every family of the read model with its reason (after the quota), rank among qualifying ones and amount.

    Columns: household_id, kecamatan_code, kelurahan_code, desil, amount, list_rank, listed, reason, then (with
    inputs) the FROZEN_INPUTS columns.
    The quota ranks the whole kota: callers filter by scope after ranking, never before.
    """
    carried = [n for n in INPUT_COLUMNS if n not in {"desil", "members", "last_verified_at"}] if with_inputs else []
    cols: list[Any] = [
        household_statuses.household_id,
        household_statuses.kecamatan_code,
        household_statuses.kelurahan_code,
        household_statuses.desil,
        household_statuses.members,
        household_statuses.last_verified_at,
        *(household_statuses[name] for name in carried),
        amount_expression(pg, rule.amount).label("amount"),
        reason_expression(pg, rule, as_of).label("pre_reason"),
    ]
    base = (
        select(*cols)
        .where(household_statuses.data_status.is_not(None), household_statuses.kelurahan_code.is_not(None))
        .subquery("base")
    )
    # Only qualifying families are ranked: the sort then holds a fraction of the read model instead of all of it
    # (the read model is scanned twice, which costs far less than sorting every family).
    qualifying = base.c.pre_reason == Reason.ELIGIBLE.value
    rn = func.row_number().over(order_by=_order_by(pg, rule, base))
    numbered = union_all(
        select(base, rn.label("rn")).where(qualifying),
        select(base, cast(null(), BigInteger).label("rn")).where(~qualifying),
    ).subquery("numbered")
    qualifies = numbered.c.rn.is_not(None)
    within = qualifies if rule.quota is None else and_(qualifies, numbered.c.rn <= rule.quota)
    reason: ColumnElement[Any] = numbered.c.pre_reason
    if rule.quota is not None:
        reason = case((and_(qualifies, numbered.c.rn > rule.quota), Reason.OVER_QUOTA.value), else_=reason)
    extra = [name for name in INPUT_COLUMNS if name != "desil"] if with_inputs else []
    inputs = [numbered.c[name].label(input_name(name)) for name in extra]
    return select(
        numbered.c.household_id,
        numbered.c.kecamatan_code,
        numbered.c.kelurahan_code,
        numbered.c.desil,
        numbered.c.amount,
        numbered.c.rn.label("list_rank"),
        within.label("listed"),
        reason.label("reason"),
        *inputs,
    )
