"""Request and response bodies of tahap, their lists and the tahap-over-tahap report."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.disbursement.programmes.schemas import FrozenInputs
from shared.exports.tabular import Column
from shared.http.params import PRINTABLE


class TahapIn(BaseModel):
    """A new payment round of a programme."""

    model_config = ConfigDict(extra="forbid")

    programme_code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,29}$")
    label: str = Field(min_length=1, max_length=40, pattern=PRINTABLE, description="e.g. 2026-I")
    as_of: date = Field(description="Day eligibility is judged on.")
    rule_version: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Default: the version in force on as_of."
    )


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
    payment_file_kind: str | None = Field(default=None, description="pain.001.001.09 or pos_csv_v1")
    payment_file_sha256: str | None = None
    payment_file_count: int | None = None
    payment_file_total: int | None = None
    payment_file_at: datetime | None = None
    payment_file_by: str | None = None


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
    inputs: FrozenInputs


# The columns of the frozen-list exports, headed in Bahasa Indonesia (the frozen inputs stay in the JSON).
LIST_COLUMNS = (
    Column("household_id", "ID keluarga"),
    Column("kecamatan_code", "Kode kecamatan"),
    Column("kelurahan_code", "Kode kelurahan"),
    Column("desil", "Desil", "number"),
    Column("amount", "Nominal (Rp)", "number"),
    Column("rank", "Peringkat", "number"),
    Column("listed", "Masuk daftar", "boolean"),
    Column("reason", "Alasan"),
)


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
