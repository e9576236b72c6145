"""Payload of an approved recipient_change usulan on verification.outcome.v1 (ids only, no NIK or name)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.events.catalog import register
from shared.events.household import VerificationEventType
from shared.events.topics import VERIFICATION_OUTCOME


class RecipientChangeApproved(BaseModel):
    """A recipient_change usulan passed its four-eyes ground check: the registry names this member recipient."""

    model_config = ConfigDict(extra="ignore")

    household_id: str = Field(min_length=1, max_length=100)
    proposal_id: str = Field(min_length=1, max_length=40)
    member_id: str = Field(min_length=1, max_length=36)
    kelurahan_code: str
    approved_at: datetime


register(VERIFICATION_OUTCOME, VerificationEventType.RECIPIENT_CHANGE_APPROVED.value, RecipientChangeApproved)
