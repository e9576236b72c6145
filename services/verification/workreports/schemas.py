"""Response bodies of the TKSK work report."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class OfficerWork(BaseModel):
    """One officer's ground checks in the kecamatan and period (officer None: checks nobody is assigned to)."""

    officer: str | None
    role: str | None
    assigned: int
    visited: int
    layak: int
    tidak_layak: int
    overdue: int


class OutcomeCount(BaseModel):
    """Visits of the period with one outcome and reason."""

    outcome: str
    reason: str | None
    visits: int


class CampaignWork(BaseModel):
    """A revalidation campaign's checks in the kecamatan, by state."""

    campaign_id: int
    name: str
    counts: dict[str, int]
    total: int
    done: int


class TkskReport(BaseModel):
    """Ground-check work of a kecamatan's officers over a period (dates inclusive, UTC)."""

    kecamatan_code: str
    period_from: date
    period_to: date
    as_of: date
    officers: list[OfficerWork]
    outcomes: list[OutcomeCount]
    campaigns: list[CampaignWork]
