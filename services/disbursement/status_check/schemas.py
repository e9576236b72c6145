"""The status-check payment query (its answer is the shared contract with the gateway, shared/status_check.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PaymentsIn(BaseModel):
    """The families the registry found."""

    model_config = ConfigDict(extra="forbid")

    household_ids: list[str] = Field(max_length=5)
