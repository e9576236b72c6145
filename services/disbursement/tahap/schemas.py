"""Request and response bodies of tahap, their lists and the tahap-over-tahap report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.http.params import NO_NUL, PRINTABLE


class TahapIn(BaseModel):
    """A new payment round of a programme."""

    model_config = ConfigDict(extra="forbid")

    programme_code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,29}$")
    label: str = Field(min_length=1, max_length=40, pattern=PRINTABLE, description="e.g. 2026-I")
    as_of: date = Field(description="Day eligibility is judged on.")
    rule_version: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Default: the version in force on as_of."
    )


class ReasonIn(BaseModel):
    """Why (cancel, release, resolve): kept with who did it."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(pattern=NO_NUL, min_length=3, max_length=500)


class TahapOut(BaseModel):
    """A tahap."""

    id: str
    programme_code: str
    label: str
    as_of: date
    rule_version_id: int
    status: str
    generation: int
    list_hash: str | None
    listed_count: int
    total_amount: int
    prepared_by: str | None
    prepared_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    cancelled_by: str | None
    cancel_reason: str | None
    created_by: str
    created_at: datetime


class ListDiff(BaseModel):
    """A regenerated list against the previous frozen one."""

    generation: int
    previous_generation: int | None
    list_hash: str
    previous_hash: str | None
    listed_count: int
    total_amount: int
    added: int
    removed: int
    changed: int
    added_ids: list[str] = Field(default_factory=list)
    removed_ids: list[str] = Field(default_factory=list)
    changed_ids: list[str] = Field(default_factory=list)


class ListRow(BaseModel):
    """One family of a frozen list (ids and codes only)."""

    household_id: str
    kecamatan_code: str
    kelurahan_code: str
    desil: int | None
    amount: int
    rank: int | None
    listed: bool
    reason: str
    hold_reason: str | None = Field(
        description="A listed family with a holding flag of the rule (as generated): counted, its payment held."
    )
    holding_flags: list[str]
    inputs: dict[str, Any]


class KecamatanChange(BaseModel):
    """Tahap over tahap in one kecamatan: previous + added - removed = current."""

    kecamatan_code: str
    previous: int
    added: int
    removed: int
    current: int
    added_by_reason: dict[str, int]
    removed_by_reason: dict[str, int]


class TahapChanges(BaseModel):
    """Who was added and removed since the previous tahap, and why."""

    tahap_id: str
    previous_tahap_id: str | None
    previous: int
    added: int
    removed: int
    current: int
    kecamatan: list[KecamatanChange]
