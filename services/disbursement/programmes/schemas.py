"""Request and response bodies of programmes, rules, dry runs and explanations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.disbursement.programmes.rules import RuleDefinition
from shared.http.params import NO_NUL


class ProgrammeIn(BaseModel):
    """A city-funded (APBD) programme; national ones are seeded."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,29}$")
    name: str = Field(pattern=NO_NUL, min_length=3, max_length=200)
    unit: Literal["family", "person"]
    periodicity: Literal["quarterly", "monthly", "one_off"]
    channel: Literal["bank_kks", "pos"]


class ProgrammeOut(BaseModel):
    """A programme."""

    code: str
    name: str
    funding: str
    unit: str
    periodicity: str
    channel: str
    created_at: datetime


class RuleIn(BaseModel):
    """A new rule version of a programme."""

    model_config = ConfigDict(extra="forbid")

    effective_from: date
    effective_to: date | None = None
    note: str | None = Field(pattern=NO_NUL, default=None, max_length=500)
    definition: RuleDefinition

    @model_validator(mode="after")
    def _dates(self) -> RuleIn:
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("effective_to must be after effective_from")
        return self


class RuleOut(BaseModel):
    """A stored rule version."""

    id: int
    programme_code: str
    version: int
    effective_from: date
    effective_to: date | None
    note: str | None
    definition: RuleDefinition
    created_by: str
    created_at: datetime


class KecamatanDryRun(BaseModel):
    """What a rule would do in one kecamatan today."""

    kecamatan_code: str
    eligible: int
    eligible_amount: int
    over_quota: int
    excluded: dict[str, int]


class DryRunOut(BaseModel):
    """A rule version evaluated against today's read model (nothing stored)."""

    programme_code: str
    rule_version: int
    as_of: date
    eligible: int
    eligible_amount: int
    over_quota: int
    excluded: dict[str, int]
    kecamatan: list[KecamatanDryRun]


class CheckOut(BaseModel):
    """One condition of the rule for one family."""

    check: str
    passed: bool
    detail: str


class FrozenInputs(BaseModel):
    """The read model's values a family was judged on (`eligibility.FROZEN_INPUTS`, one field each).

    `pregnant` and `disabled_severe` are sensitive (shared/privacy/policy.py): null for roles without READ_SENSITIVE.
    """

    data_status: str | None
    status_reason: str | None
    desil: int | None
    desil_period: str | None
    confirmed_flags: str
    open_flags: str
    last_outcome: str | None
    last_verified_at: str | None = Field(description="As the database writes a timestamptz in JSON")
    registry_version: int
    members: int
    children_0_6: int
    school_sd: int
    school_smp: int
    school_sma: int
    elderly_70: int
    disabled_severe: int | None = Field(description="Only for roles that may read sensitive data.")
    pregnant: int | None = Field(description="Only for roles that may read sensitive data.")


class ExplainOut(BaseModel):
    """One family against one rule version: in or out, and why."""

    household_id: str
    programme_code: str
    rule_version: int
    as_of: date
    listed: bool
    reason: str
    rank: int | None
    quota: int | None
    amount: int
    hold_reason: str | None = Field(
        description="Listed, but its payment waits for these flags to clear (the rule's holding_flags)."
    )
    holding_flags: list[str]
    checks: list[CheckOut]
    inputs: FrozenInputs
