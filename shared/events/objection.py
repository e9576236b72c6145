"""Payload of the objection (sanggah) results on verification.outcome.v1 (PII-free: no objector data)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.catalog import register
from shared.events.household import VerificationEventType
from shared.events.topics import VERIFICATION_OUTCOME


class ObjectionResult(BaseModel):
    """An objection against a family's eligibility was upheld, rejected or lapsed."""

    model_config = ConfigDict(extra="ignore")

    household_id: str = Field(min_length=1, max_length=100)
    objection_id: str
    kelurahan_code: str
    result: Literal["upheld", "rejected", "lapsed"]
    reason: str | None = Field(default=None, max_length=50)
    decided_at: datetime
    removal_proposal_id: str | None = None


for _type in (
    VerificationEventType.OBJECTION_UPHELD,
    VerificationEventType.OBJECTION_REJECTED,
    VerificationEventType.OBJECTION_LAPSED,
):
    register(VERIFICATION_OUTCOME, _type.value, ObjectionResult)
