"""The eligibility rule as one set-based query over the read model (must agree with `rules.evaluate`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Text,
    and_,
    case,
    cast,
    func,
    lateral,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
)

from services.disbursement.dialect import binary_order, json_object, least
from services.disbursement.households.models import COMPOSITION, household_status
from services.disbursement.programmes.rules import (
    DECEASED_STATUS_REASONS,
    AmountFormula,
    Reason,
    RuleDefinition,
    verification_cutoff,
)

hs = household_status.c


def _has_flag(pg: bool, column: Any, kind: str) -> ColumnElement[bool]:
    # strpos/instr, not LIKE: flag kinds contain '_', a LIKE wildcard.
    needle = literal(f",{kind},")
    return (func.strpos(column, needle) if pg else func.instr(column, needle)) > 0


def amount_expression(pg: bool, formula: AmountFormula) -> ColumnElement[int]:
    """Rupiah per tahap as SQL over the composition columns (same arithmetic as `rules.amount_for`)."""
    if formula.kind == "flat":
        return literal(formula.amount, BigInteger)
    if formula.kind == "per_member":
        return literal(formula.amount, BigInteger) * hs.members
    # The family cap M counts members in component order; with a_i the capped count of component i and S_i the
    # running sum, the members counted for i are min(S_i, M) - min(S_i-1, M): linear in the number of components.
    total: ColumnElement[Any] = literal(0, BigInteger)
    running: ColumnElement[Any] | None = None
    cap = formula.max_counted_members
    for comp in formula.components:
        col = hs[comp.category]
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
    deceased_conditions: list[ColumnElement[bool]] = [
        and_(hs.data_status == "inactive", hs.status_reason.in_(sorted(DECEASED_STATUS_REASONS)))
    ]
    if "deceased" in disq:
        deceased_conditions.append(_has_flag(pg, hs.confirmed_flags, "deceased"))
    whens: list[tuple[ColumnElement[bool], str]] = [
        (or_(*deceased_conditions), Reason.DECEASED.value),
        (hs.data_status == "inactive", Reason.DATA_INACTIVE.value),
        (hs.data_status.not_in([s.value for s in rule.required_data_status]), Reason.DATA_NOT_VERIFIED.value),
        (func.coalesce(hs.last_outcome, "") == "tidak_layak", Reason.VERIFIED_TIDAK_LAYAK.value),
    ]
    if disq:
        whens.append((or_(*(_has_flag(pg, hs.confirmed_flags, k) for k in disq)), Reason.EXCLUDED_FLAG.value))
    whens += [
        (hs.desil.is_(None), Reason.NO_DESIL.value),
        (hs.desil > rule.desil_max, Reason.DESIL_ROSE.value),
        (hs.desil < rule.desil_min, Reason.DESIL_BELOW_BAND.value),
    ]
    cutoff = verification_cutoff(rule, as_of)
    if cutoff is not None:
        since = datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=UTC)
        stale = or_(
            func.coalesce(hs.last_outcome, "") != "layak",
            hs.last_verified_at.is_(None),
            hs.last_verified_at < since,
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


def inputs_expression(pg: bool, cols: Any = hs) -> ColumnElement[str]:
    """The frozen inputs of one family as JSON text (built after ranking: the sort then moves narrow rows)."""
    pairs = {("registry_version" if name == "version" else name): cols[name] for name in INPUT_COLUMNS}
    return json_object(pg, **pairs)


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

    Columns: household_id, kecamatan_code, kelurahan_code, desil, inputs, amount, list_rank, listed, reason.
    The quota ranks the whole kota: callers filter by scope after ranking, never before.
    """
    carried = sorted(set(INPUT_COLUMNS) - {"desil", "members", "last_verified_at"}) if with_inputs else []
    cols: list[Any] = [
        hs.household_id,
        hs.kecamatan_code,
        hs.kelurahan_code,
        hs.desil,
        hs.members,
        hs.last_verified_at,
        *(hs[name] for name in carried),
        amount_expression(pg, rule.amount).label("amount"),
        reason_expression(pg, rule, as_of).label("pre_reason"),
    ]
    base = select(*cols).where(hs.data_status.is_not(None), hs.kelurahan_code.is_not(None)).subquery("base")
    # One ordering for everyone, qualifying families first: their row numbers are their ranks.
    first = case((base.c.pre_reason == Reason.ELIGIBLE.value, 0), else_=1)
    rn = func.row_number().over(order_by=[first, *_order_by(pg, rule, base)])
    ranked = select(base, rn.label("rn")).subquery("ranked")
    qualifies = ranked.c.pre_reason == Reason.ELIGIBLE.value
    within = qualifies if rule.quota is None else and_(qualifies, ranked.c.rn <= rule.quota)
    over = null() if rule.quota is None else and_(qualifies, ranked.c.rn > rule.quota)
    reason = (
        ranked.c.pre_reason if rule.quota is None else case((over, Reason.OVER_QUOTA.value), else_=ranked.c.pre_reason)
    )
    inputs: ColumnElement[Any] = literal("{}")
    source: Any = ranked
    if with_inputs and pg:
        # row_to_json over a lateral row is about a third cheaper than json_build_object with 17 pairs.
        named = [ranked.c[n].label("registry_version" if n == "version" else n) for n in INPUT_COLUMNS]
        row = lateral(select(*named).correlate(ranked)).alias("inp")
        source = ranked.join(row, true())
        inputs = cast(func.row_to_json(literal_column("inp")), Text)
    elif with_inputs:
        inputs = inputs_expression(pg, ranked.c)
    return select(
        ranked.c.household_id,
        ranked.c.kecamatan_code,
        ranked.c.kelurahan_code,
        ranked.c.desil,
        inputs.label("inputs"),
        ranked.c.amount,
        case((qualifies, ranked.c.rn), else_=null()).label("list_rank"),
        within.label("listed"),
        reason.label("reason"),
    ).select_from(source)
