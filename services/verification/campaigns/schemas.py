"""Request and response bodies of revalidation campaigns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.verification.groundchecks.schemas import WorkloadRow
from shared.events.household import WILAYAH_KECAMATAN
from shared.exports.tabular import Column
from shared.http.params import NO_NUL


class CampaignIn(BaseModel):
    """Which families to revalidate before a tahap."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NO_NUL, min_length=1, max_length=200, examples=["Revalidasi sebelum tahap III 2026"])
    kecamatan_codes: list[Annotated[str, Field(pattern=WILAYAH_KECAMATAN)]] = Field(min_length=1, max_length=50)
    not_verified_months: int = Field(
        default=12, ge=0, le=120, description="Skip families with a ground check approved this recently (0: none)."
    )
    desil_max: int | None = Field(default=None, ge=1, le=10)

    def codes(self) -> list[str]:
        """The kecamatan codes, de-duplicated and sorted."""
        return sorted(set(self.kecamatan_codes))


class CampaignOut(BaseModel):
    """A campaign and how many checks it opened."""

    id: int
    name: str
    kecamatan_codes: list[str]
    not_verified_months: int
    desil_max: int | None
    created_by: str
    created_at: datetime
    created_checks: int


class CampaignProgress(BaseModel):
    """Counts by state per kecamatan and per officer, within the caller's scope."""

    campaign: CampaignOut
    by_kecamatan: dict[str, dict[str, int]]
    by_officer: list[WorkloadRow]


# Campaign progress as one table: a row per kecamatan, then a row per officer, with the counts by state.
PROGRESS_STATES = (
    ("open", "Terbuka"),
    ("assigned", "Ditugaskan"),
    ("visited", "Dikunjungi"),
    ("approved", "Disetujui"),
    ("cancelled", "Dibatalkan"),
)
PROGRESS_COLUMNS = (
    Column("group", "Kelompok"),
    Column("key", "Kecamatan / petugas"),
    Column("role", "Peran"),
    *(Column(state, label, "number") for state, label in PROGRESS_STATES),
    Column("total", "Jumlah", "number"),
    Column("overdue", "Terlambat", "number"),
)


def progress_rows(progress: CampaignProgress) -> list[dict[str, Any]]:
    """The progress's two tables as export rows (overdue is counted per officer only, as in the JSON)."""

    def counts(c: dict[str, int]) -> dict[str, int]:
        return {**{state: c.get(state, 0) for state, _ in PROGRESS_STATES}, "total": sum(c.values())}

    return [
        {"group": "kecamatan", "key": k, "role": None, **counts(c), "overdue": None}
        for k, c in progress.by_kecamatan.items()
    ] + [
        {"group": "petugas", "key": w.officer, "role": w.role, **counts(w.counts), "overdue": w.overdue}
        for w in progress.by_officer
    ]
