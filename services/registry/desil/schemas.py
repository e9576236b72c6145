"""Response shapes of a family's desil history."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class DesilSnapshotOut(BaseModel):
    """One BPS ranking of the family."""

    period: str
    desil: int
    source: str
    import_batch_id: str | None
    recorded_at: datetime


class DesilHistory(BaseModel):
    """Current desil and every snapshot, newest period first."""

    family_id: str
    desil: int | None
    desil_period: str | None
    desil_since: str | None
    snapshots: list[DesilSnapshotOut]
