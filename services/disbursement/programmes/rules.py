"""Eligibility rules as data, and their evaluation as plain functions (the SQL in `eligibility.py` must agree)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.disbursement.households.rules import HouseholdInputs
from shared.events.household import DataStatus
from shared.events.vocabulary import FLAG_KINDS, FlagKind, HoldReason, StatusReason

ComponentCategory = Literal[
    "pregnant", "children_0_6", "school_sd", "school_smp", "school_sma", "disabled_severe", "elderly_70"
]
TieBreaker = Literal[
    "larger_family_first", "smaller_family_first", "older_verification_first", "newer_verification_first"
]
DECEASED_STATUS_REASONS = frozenset({StatusReason.DECEASED, StatusReason.ALL_DECEASED})
# The registry's flag kinds (shared vocabulary); a name outside it would never match a family. A confirmed
# deceased_dukcapil is one member's death, not the family's: the family is out only when the registry makes it
# inactive (all_deceased), so it is not a disqualifying flag.
DEFAULT_DISQUALIFYING_FLAGS: tuple[FlagKind, ...] = (
    FlagKind.EXCLUDED_OCCUPATION,
    FlagKind.INCOME_ABOVE_UMR,
    FlagKind.ELECTRICITY_NON_SUBSIDISED,
    FlagKind.CAR_OWNER,
    FlagKind.BUSINESS_OWNER,
    FlagKind.DUPLICATE_NIK,
    FlagKind.DUPLICATE_KK,
)
# Flags that keep a family on the list (present, counted, visible) while its payment waits: the data behind it
# is not verified yet (issue 12: "not paid on unverified data"). Open or confirmed, the flag holds until it clears.
DEFAULT_HOLDING_FLAGS: tuple[FlagKind, ...] = (
    FlagKind.MEMBER_NEEDS_CORRECTION,
    FlagKind.DEATH_RECORD_CONFLICT,
    FlagKind.RECIPIENT_DECEASED,
)
# Hold reasons a flag hold may carry: released by the system once no holding flag is left (the other hold
# reasons are decisions for an officer).
FLAG_HOLD_REASONS = frozenset(
    {
        HoldReason.MEMBER_NEEDS_CORRECTION,
        HoldReason.DEATH_RECORD_CONFLICT,
        HoldReason.RECIPIENT_DECEASED,
        HoldReason.HOLDING_FLAG,
    }
)


class Reason(StrEnum):
    """Why a family is in or out of a list; checked in this order, the first failing check wins."""

    ELIGIBLE = "eligible"
    DECEASED = "deceased"
    DATA_INACTIVE = "data_inactive"
    DATA_NOT_VERIFIED = "data_not_verified"
    VERIFIED_TIDAK_LAYAK = "verified_tidak_layak"
    EXCLUDED_FLAG = "excluded_flag"
    NO_DESIL = "no_desil"
    DESIL_ROSE = "desil_rose"
    DESIL_BELOW_BAND = "desil_below_band"
    VERIFICATION_STALE = "verification_stale"
    OVER_QUOTA = "over_quota"


# A frozen line goes on hold when one of these appears after the list was generated.
HOLD_REASONS = frozenset({Reason.DECEASED, Reason.DATA_INACTIVE, Reason.VERIFIED_TIDAK_LAYAK, Reason.EXCLUDED_FLAG})


class ComponentRate(BaseModel):
    """One PKH-style component: a yearly amount per counted member of a category, with a cap."""

    model_config = ConfigDict(extra="forbid")

    category: ComponentCategory
    annual_amount: int = Field(ge=0)
    max_count: int | None = Field(default=None, ge=0)


class AmountFormula(BaseModel):
    """How much one family gets per tahap."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["flat", "per_member", "components"]
    amount: int = Field(default=0, ge=0, description="Per family (flat) or per member (per_member), per tahap.")
    components: list[ComponentRate] = Field(default_factory=list, description="Counted in this order.")
    max_counted_members: int | None = Field(default=None, ge=0)
    periods_per_year: int = Field(default=4, ge=1, le=12, description="Yearly component amounts ÷ this.")

    @model_validator(mode="after")
    def _components_only_for_components(self) -> AmountFormula:
        if self.kind == "components" and not self.components:
            raise ValueError("a components formula needs at least one component")
        if len({c.category for c in self.components}) != len(self.components):
            raise ValueError("each component category may appear once")
        return self


class RuleDefinition(BaseModel):
    """One version of a programme's eligibility rule (DOMAIN §5), stored as JSON in rule_version."""

    model_config = ConfigDict(extra="forbid")

    desil_min: int = Field(default=1, ge=1, le=10)
    desil_max: int = Field(ge=1, le=10)
    disqualifying_flags: list[str] = Field(default_factory=lambda: [k.value for k in DEFAULT_DISQUALIFYING_FLAGS])
    holding_flags: list[str] = Field(
        default_factory=lambda: [k.value for k in DEFAULT_HOLDING_FLAGS],
        description="Flags (open or confirmed) that keep a family listed but its payment line on hold.",
    )
    required_data_status: list[DataStatus] = Field(default_factory=lambda: [DataStatus.ACTIVE], min_length=1)
    max_verification_age_months: int | None = Field(default=None, ge=1, le=120)
    quota: int | None = Field(default=None, ge=0)
    tie_breakers: list[TieBreaker] = Field(default_factory=list)
    amount: AmountFormula

    @model_validator(mode="after")
    def _band(self) -> RuleDefinition:
        if self.desil_min > self.desil_max:
            raise ValueError("desil_min must not exceed desil_max")
        return self

    @field_validator("disqualifying_flags", "holding_flags")
    @classmethod
    def _known_kinds(cls, kinds: list[str]) -> list[str]:
        # A kind named in both lists disqualifies when confirmed (checked first) and holds while only open.
        for kind in kinds:
            if kind not in FLAG_KINDS:
                raise ValueError(f"unknown flag kind {kind!r}: the registry raises only {sorted(FLAG_KINDS)}")
        return kinds


@dataclass(frozen=True)
class Check:
    """One condition of the rule and how the family fared."""

    check: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Verdict:
    """The rule's answer for one family before the quota: the reason (eligible or the first failure)."""

    household_id: str
    reason: Reason
    amount: int
    checks: tuple[Check, ...]
    hold: HoldReason | None = None

    @property
    def qualifies(self) -> bool:
        """In the band and passing every check (the quota decides next)."""
        return self.reason is Reason.ELIGIBLE


def naive_utc(value: datetime | None) -> datetime | None:
    """A timestamp in UTC without tzinfo (SQLite hands back naive UTC values)."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier (clamped to the month's last day)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def verification_cutoff(rule: RuleDefinition, as_of: date) -> date | None:
    """Oldest acceptable date of the last positive verification, or None when the rule has no such limit."""
    if rule.max_verification_age_months is None:
        return None
    return months_before(as_of, rule.max_verification_age_months)


def counted_members(formula: AmountFormula, composition: dict[str, int]) -> dict[str, int]:
    """Members counted per component after the per-category caps and the family cap (in component order)."""
    counted: dict[str, int] = {}
    room = formula.max_counted_members
    for comp in formula.components:
        n = composition.get(comp.category, 0)
        if comp.max_count is not None:
            n = min(n, comp.max_count)
        if room is not None:
            n = min(n, room)
            room -= n
        counted[comp.category] = n
    return counted


def amount_for(formula: AmountFormula, composition: dict[str, int]) -> int:
    """Rupiah per tahap for a family of this composition."""
    if formula.kind == "flat":
        return formula.amount
    if formula.kind == "per_member":
        return formula.amount * composition.get("members", 0)
    counted = counted_members(formula, composition)
    annual = sum(c.annual_amount * counted[c.category] for c in formula.components)
    return annual // formula.periods_per_year


def evaluate(rule: RuleDefinition, family: HouseholdInputs, *, as_of: date) -> Verdict:
    """Judge one family against a rule, before the quota."""
    checks: list[Check] = []
    reason: Reason | None = None

    def check(name: str, passed: bool, detail: str, failure: Reason) -> None:
        nonlocal reason
        checks.append(Check(name, passed, detail))
        if not passed and reason is None:
            reason = failure

    disqualifying = set(rule.disqualifying_flags)
    deceased = family.data_status == DataStatus.INACTIVE and family.status_reason in DECEASED_STATUS_REASONS
    check("not_deceased", not deceased, f"status_reason={family.status_reason}", Reason.DECEASED)
    check(
        "data_not_inactive",
        family.data_status != DataStatus.INACTIVE,
        f"data_status={family.data_status}",
        Reason.DATA_INACTIVE,
    )
    check(
        "data_status_allowed",
        family.data_status in {s.value for s in rule.required_data_status},
        f"data_status={family.data_status}; required {sorted(s.value for s in rule.required_data_status)}",
        Reason.DATA_NOT_VERIFIED,
    )
    check(
        "not_verified_tidak_layak",
        family.last_outcome != "tidak_layak",
        f"last_outcome={family.last_outcome}",
        Reason.VERIFIED_TIDAK_LAYAK,
    )
    hits = sorted(disqualifying & family.confirmed_flags)
    check("no_confirmed_exclusion_flag", not hits, f"confirmed={hits}", Reason.EXCLUDED_FLAG)
    check("has_desil", family.desil is not None, f"desil={family.desil}", Reason.NO_DESIL)
    if family.desil is not None:
        check(
            "desil_not_above_band",
            family.desil <= rule.desil_max,
            f"desil={family.desil}; band {rule.desil_min}-{rule.desil_max}",
            Reason.DESIL_ROSE,
        )
        check(
            "desil_not_below_band",
            family.desil >= rule.desil_min,
            f"desil={family.desil}; band {rule.desil_min}-{rule.desil_max}",
            Reason.DESIL_BELOW_BAND,
        )
    holding = holding_hits(rule, open_flags=family.open_flags, confirmed_flags=family.confirmed_flags)
    # Not a failure: the family stays listed and counted, only its payment waits.
    checks.append(Check("no_holding_flag", not holding, f"holding={holding}; listed, payment on hold until cleared"))
    cutoff = verification_cutoff(rule, as_of)
    if cutoff is not None:
        fresh = (
            family.last_outcome == "layak"
            and family.last_verified_at is not None
            and naive_utc(family.last_verified_at).date() >= cutoff  # type: ignore[union-attr]
        )
        check(
            "verification_fresh",
            fresh,
            f"last_outcome={family.last_outcome}, verified_at={family.last_verified_at}; cutoff {cutoff}",
            Reason.VERIFICATION_STALE,
        )
    return Verdict(
        household_id=family.household_id,
        reason=reason or Reason.ELIGIBLE,
        amount=amount_for(rule.amount, family.composition),
        checks=tuple(checks),
        hold=flag_hold_reason(holding),
    )


def ranking_key(rule: RuleDefinition, family: HouseholdInputs) -> tuple[object, ...]:
    """Sort key of the quota ranking: desil ascending, the rule's tie-breakers, then household_id."""
    key: list[object] = [family.desil]
    far = datetime.max
    for tb in rule.tie_breakers:
        if tb == "larger_family_first":
            key.append(-family.members)
        elif tb == "smaller_family_first":
            key.append(family.members)
        elif tb == "older_verification_first":
            v = naive_utc(family.last_verified_at)
            key.append((v is None, v or far))
        else:
            v = naive_utc(family.last_verified_at)
            key.append((v is None, -(v - datetime.min).total_seconds() if v else 0.0))
    key.append(family.household_id)
    return tuple(key)


@dataclass(frozen=True)
class Ranked:
    """A family's final place: reason after the quota, rank among qualifying families, amount."""

    household_id: str
    reason: Reason
    rank: int | None
    amount: int

    @property
    def listed(self) -> bool:
        """On the list (qualifies and within the quota)."""
        return self.reason is Reason.ELIGIBLE


def rank_families(rule: RuleDefinition, families: Iterable[HouseholdInputs], *, as_of: date) -> list[Ranked]:
    """Evaluate, rank the qualifying families and apply the quota; result ordered by household_id."""
    pool = list(families)
    verdicts = {f.household_id: evaluate(rule, f, as_of=as_of) for f in pool}
    qualifying = sorted((f for f in pool if verdicts[f.household_id].qualifies), key=lambda f: ranking_key(rule, f))
    ranks = {f.household_id: i + 1 for i, f in enumerate(qualifying)}
    out: list[Ranked] = []
    for f in sorted(pool, key=lambda f: f.household_id):
        v = verdicts[f.household_id]
        rank = ranks.get(f.household_id)
        reason = v.reason
        if rank is not None and rule.quota is not None and rank > rule.quota:
            reason = Reason.OVER_QUOTA
        out.append(Ranked(f.household_id, reason, rank, v.amount))
    return out


def list_hash_lines(rows: Sequence[tuple[int, str, int]]) -> str:
    """The text hashed for a frozen list: 'rank|household_id|amount' lines in rank order, joined by newlines."""
    return "\n".join(f"{rank}|{hh}|{amount}" for rank, hh, amount in rows)


def holding_hits(rule: RuleDefinition, *, open_flags: Iterable[str], confirmed_flags: Iterable[str]) -> list[str]:
    """The rule's holding flags the family has (open or confirmed), sorted."""
    return sorted(set(rule.holding_flags) & (set(open_flags) | set(confirmed_flags)))


def flag_hold_reason(holding: Sequence[str]) -> HoldReason | None:
    """The hold reason of a line held for these flags: the flag's own name when the vocabulary has it."""
    if not holding:
        return None
    named = [HoldReason(k) for k in holding if k in {r.value for r in FLAG_HOLD_REASONS}]
    return named[0] if named else HoldReason.HOLDING_FLAG


def hold_reason(rule: RuleDefinition, family: HouseholdInputs, *, as_of: date) -> str | None:
    """Why an unpaid line of this family must wait now (None: nothing to hold).

    A disqualification that appeared after the list was frozen waits for an officer's decision; a holding flag
    waits until the registry clears it."""
    verdict = evaluate(rule, family, as_of=as_of)
    if verdict.reason in HOLD_REASONS:
        return verdict.reason.value
    return verdict.hold.value if verdict.hold is not None else None
