"""Response shapes of the dashboard aggregates."""

from __future__ import annotations

from pydantic import BaseModel, Field


class GroupAggregate(BaseModel):
    """Counts of one kecamatan or kelurahan (no personal data)."""

    code: str
    name: str | None
    families: int = 0
    members: int = 0
    by_data_status: dict[str, int] = Field(default_factory=dict)
    by_desil: dict[str, int] = Field(default_factory=dict, description="'none' for families without a desil")
    open_flags: dict[str, int] = Field(default_factory=dict, description="Families with an open flag of each kind")


class Aggregates(BaseModel):
    """Aggregates within the caller's wilayah."""

    group_by: str
    groups: list[GroupAggregate]
