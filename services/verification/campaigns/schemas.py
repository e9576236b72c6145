"""Request and response bodies of revalidation campaigns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.verification.groundchecks.schemas import WorkloadRow
from shared.events.household import WILAYAH_KECAMATAN
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
