"""What the disbursement service knows of a family, as the programme rules read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class HouseholdInputs:
    """What a rule looks at for one family (a row of the household_status read model)."""

    household_id: str
    kecamatan_code: str
    kelurahan_code: str
    data_status: str
    status_reason: str | None = None
    desil: int | None = None
    confirmed_flags: frozenset[str] = frozenset()
    open_flags: frozenset[str] = frozenset()
    composition: dict[str, int] = field(default_factory=dict)
    last_outcome: str | None = None
    last_verified_at: datetime | None = None

    @property
    def members(self) -> int:
        """Living members."""
        return self.composition.get("members", 0)
