"""Plain values of verification's read model that rules elsewhere reason about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ProgrammeBand:
    """The desil band of one published rule version of a programme, and when it is in force."""

    programme_code: str
    version: int
    desil_min: int
    desil_max: int
    effective_from: date
    effective_to: date | None  # exclusive, as disbursement resolves rule versions
