"""Bodies of the status-check payment query."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PaymentsIn(BaseModel):
    """The families the registry found."""

    model_config = ConfigDict(extra="forbid")

    household_ids: list[str] = Field(max_length=5)


class ProgrammeStatus(BaseModel):
    """A family's line in a programme's current tahap, as a citizen may see it."""

    programme_code: str
    tahap: str
    payment_status: str = Field(description="scheduled, at_payer, paid, failed, on_hold")


class PaymentsOut(BaseModel):
    """Every programme whose current tahap lists one of the families."""

    programmes: list[ProgrammeStatus]
