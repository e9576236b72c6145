"""Eligibility rules and amount formulas as plain functions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from services.disbursement.households.rules import HouseholdInputs
from services.disbursement.programmes.eligibility import FROZEN_INPUTS, frozen_inputs
from services.disbursement.programmes.rules import (
    AmountFormula,
    Reason,
    RuleDefinition,
    amount_for,
    counted_members,
    evaluate,
    flag_hold_reason,
    hold_reason,
    months_before,
    rank_families,
)

PKH = AmountFormula.model_validate(
    {
        "kind": "components",
        "components": [
            {"category": "pregnant", "annual_amount": 3_000_000, "max_count": 2},
            {"category": "children_0_6", "annual_amount": 3_000_000, "max_count": 2},
            {"category": "elderly_70", "annual_amount": 2_400_000},
            {"category": "school_sd", "annual_amount": 900_000},
        ],
        "max_counted_members": 4,
        "periods_per_year": 4,
    }
)
AS_OF = date(2026, 3, 1)


def rule(**overrides: object) -> RuleDefinition:
    base: dict[str, object] = {"desil_max": 4, "amount": {"kind": "flat", "amount": 600_000}}
    base.update(overrides)
    return RuleDefinition.model_validate(base)


def family(hid: str = "h1", **kw: Any) -> HouseholdInputs:
    values: dict[str, object] = {
        "household_id": hid,
        "kecamatan_code": "13.71.01",
        "kelurahan_code": "13.71.01.1001",
        "data_status": "active",
        "desil": 2,
        "composition": {"members": 4},
    }
    values.update(kw)
    return HouseholdInputs(**values)  # type: ignore[arg-type]


def test_pkh_components_are_capped_per_category_and_per_family() -> None:
    # 3 pregnancies (cap 2) + 3 young children (cap 2) would be 4 counted already: the elderly member is not counted.
    comp = {"pregnant": 3, "children_0_6": 3, "elderly_70": 1, "school_sd": 2}
    assert counted_members(PKH, comp) == {"pregnant": 2, "children_0_6": 2, "elderly_70": 0, "school_sd": 0}
    assert amount_for(PKH, comp) == (2 * 3_000_000 + 2 * 3_000_000) // 4


def test_pkh_amount_per_quarter_below_the_caps() -> None:
    comp = {"pregnant": 1, "elderly_70": 1, "school_sd": 1}
    assert amount_for(PKH, comp) == (3_000_000 + 2_400_000 + 900_000) // 4


def test_flat_and_per_member_amounts() -> None:
    assert amount_for(AmountFormula(kind="flat", amount=600_000), {"members": 7}) == 600_000
    assert amount_for(AmountFormula(kind="per_member", amount=42_000), {"members": 3}) == 126_000


@pytest.mark.parametrize(
    ("inputs", "reason"),
    [
        ({}, Reason.ELIGIBLE),
        ({"data_status": "inactive", "status_reason": "deceased"}, Reason.DECEASED),
        ({"confirmed_flags": frozenset({"deceased_dukcapil"})}, Reason.ELIGIBLE),  # one member's death
        ({"data_status": "inactive", "status_reason": "moved"}, Reason.DATA_INACTIVE),
        ({"data_status": "needs_verification"}, Reason.DATA_NOT_VERIFIED),
        ({"last_outcome": "tidak_layak"}, Reason.VERIFIED_TIDAK_LAYAK),
        ({"confirmed_flags": frozenset({"car_owner"})}, Reason.EXCLUDED_FLAG),
        ({"desil": None}, Reason.NO_DESIL),
        ({"desil": 5}, Reason.DESIL_ROSE),
    ],
)
def test_first_failing_check_is_the_reason(inputs: dict[str, Any], reason: Reason) -> None:
    assert evaluate(rule(), family("h1", **inputs), as_of=AS_OF).reason is reason


def test_open_flags_do_not_exclude_only_confirmed_ones() -> None:
    assert evaluate(rule(), family(confirmed_flags=frozenset({"not_a_disqualifier"})), as_of=AS_OF).qualifies


def test_desil_below_band() -> None:
    assert evaluate(rule(desil_min=3), family(desil=1), as_of=AS_OF).reason is Reason.DESIL_BELOW_BAND


def test_verification_age() -> None:
    r = rule(max_verification_age_months=12)
    fresh = family(last_outcome="layak", last_verified_at=datetime(2025, 3, 1, tzinfo=UTC))
    stale = family(last_outcome="layak", last_verified_at=datetime(2025, 2, 28, 23, 0, tzinfo=UTC))
    never = family()
    assert evaluate(r, fresh, as_of=AS_OF).qualifies
    assert evaluate(r, stale, as_of=AS_OF).reason is Reason.VERIFICATION_STALE
    assert evaluate(r, never, as_of=AS_OF).reason is Reason.VERIFICATION_STALE


def test_months_before_clamps_to_month_end() -> None:
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)


def test_ranking_desil_then_tie_breakers_then_id_and_quota() -> None:
    r = rule(quota=3, tie_breakers=["larger_family_first", "older_verification_first"])
    old = datetime(2025, 1, 1, tzinfo=UTC)
    new = datetime(2025, 6, 1, tzinfo=UTC)
    fams = [
        family("a", desil=2, composition={"members": 3}),
        family("b", desil=1, composition={"members": 2}),
        family("c", desil=2, composition={"members": 5}),
        family("d", desil=2, composition={"members": 3}, last_verified_at=new),
        family("e", desil=2, composition={"members": 3}, last_verified_at=old),
        family("f", desil=9),
    ]
    ranked = {x.household_id: x for x in rank_families(r, fams, as_of=AS_OF)}
    # b (desil 1), c (bigger family), e (older verification), d, then a (never verified, last among equals)
    assert [ranked[h].rank for h in "bceda"] == [1, 2, 3, 4, 5]
    assert [h for h in "abcdef" if ranked[h].listed] == ["b", "c", "e"]
    assert ranked["a"].reason is Reason.OVER_QUOTA
    assert ranked["d"].reason is Reason.OVER_QUOTA
    assert ranked["f"].reason is Reason.DESIL_ROSE
    assert ranked["f"].rank is None


def test_hold_reason_only_for_loss_of_eligibility_not_desil() -> None:
    assert (
        hold_reason(rule(), family(data_status="inactive", status_reason="moved"), as_of=AS_OF) == Reason.DATA_INACTIVE
    )
    assert hold_reason(rule(), family(confirmed_flags=frozenset({"excluded_occupation"})), as_of=AS_OF) == (
        Reason.EXCLUDED_FLAG
    )
    assert hold_reason(rule(), family(desil=8), as_of=AS_OF) is None


def test_rule_validation() -> None:
    with pytest.raises(ValidationError):
        rule(desil_min=5, desil_max=4)
    with pytest.raises(ValidationError):
        RuleDefinition.model_validate({"desil_max": 4, "amount": {"kind": "components"}})
    with pytest.raises(ValidationError):
        rule(disqualifying_flags=["a,b"])


def test_frozen_inputs_are_named_as_before_and_timestamps_written_alike_on_both_databases() -> None:
    row: dict[str, Any] = {name: 0 for name in FROZEN_INPUTS}
    row.update(data_status="active", status_reason=None, desil=3, registry_version=7)
    aware = frozen_inputs({**row, "last_verified_at": datetime(2026, 1, 10, 8, 30, 15, 123400, tzinfo=UTC)})
    naive = frozen_inputs({**row, "last_verified_at": datetime(2026, 1, 10, 8, 30, 15, 123400)})
    assert list(aware) == [
        "data_status",
        "status_reason",
        "desil",
        "desil_period",
        "confirmed_flags",
        "open_flags",
        "last_outcome",
        "last_verified_at",
        "registry_version",
        "members",
        "children_0_6",
        "school_sd",
        "school_smp",
        "school_sma",
        "elderly_70",
        "disabled_severe",
        "pregnant",
    ]
    assert aware == naive
    assert aware["last_verified_at"] == "2026-01-10T08:30:15.1234+00:00"  # as PostgreSQL's JSON writes it
    assert (aware["desil"], aware["registry_version"], aware["status_reason"]) == (3, 7, None)
    whole = frozen_inputs({**row, "last_verified_at": datetime(2026, 1, 10, tzinfo=UTC)})
    assert whole["last_verified_at"] == "2026-01-10T00:00:00+00:00"
    assert frozen_inputs({**row, "last_verified_at": None})["last_verified_at"] is None


def test_holding_flags_keep_the_family_eligible_with_a_hold() -> None:
    r = rule()
    assert r.holding_flags == ["member_needs_correction", "death_record_conflict", "recipient_deceased"]
    open_ = evaluate(r, family(open_flags=frozenset({"member_needs_correction"})), as_of=AS_OF)
    assert (open_.reason, open_.hold) == (Reason.ELIGIBLE, "member_needs_correction")
    assert {c.check: c.passed for c in open_.checks}["no_holding_flag"] is False
    confirmed = evaluate(r, family(confirmed_flags=frozenset({"death_record_conflict"})), as_of=AS_OF)
    assert confirmed.hold == "death_record_conflict"
    assert evaluate(r, family(open_flags=frozenset({"nik_not_matched"})), as_of=AS_OF).hold is None
    assert hold_reason(r, family(open_flags=frozenset({"recipient_deceased"})), as_of=AS_OF) == "recipient_deceased"
    assert hold_reason(r, family(), as_of=AS_OF) is None


def test_a_holding_flag_without_its_own_hold_reason_holds_as_holding_flag() -> None:
    r = rule(holding_flags=["nik_not_matched", "member_needs_correction"])
    assert flag_hold_reason(["nik_not_matched"]) == "holding_flag"
    both = family(open_flags=frozenset({"nik_not_matched", "member_needs_correction"}))
    assert evaluate(r, both, as_of=AS_OF).hold == "member_needs_correction"
    assert hold_reason(r, family(open_flags=frozenset({"nik_not_matched"})), as_of=AS_OF) == "holding_flag"


def test_a_disqualification_outranks_a_hold_and_holding_flags_are_validated() -> None:
    r = rule()
    both = family(confirmed_flags=frozenset({"car_owner"}), open_flags=frozenset({"member_needs_correction"}))
    assert hold_reason(r, both, as_of=AS_OF) == "excluded_flag"
    with pytest.raises(ValidationError, match="unknown flag kind 'unverified'"):
        rule(holding_flags=["unverified"])
    # Named in both lists: held while open, out once confirmed.
    strict = rule(disqualifying_flags=["recipient_deceased"])
    assert hold_reason(strict, family(open_flags=frozenset({"recipient_deceased"})), as_of=AS_OF) == (
        "recipient_deceased"
    )
    confirmed = family(confirmed_flags=frozenset({"recipient_deceased"}))
    assert evaluate(strict, confirmed, as_of=AS_OF).reason is Reason.EXCLUDED_FLAG
