"""Payload of the complaint (pengaduan) events on verification.outcome.v1.

PII-free: the reference number the complainant was given, codes and ids; never the complainant's name, phone or
words. `notifiable` tells a notification service whether the complainant may be sent status messages (not
anonymous and a contact was left); it looks the contact up through the verification API, audited."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.events.catalog import register
from shared.events.household import WILAYAH_KECAMATAN, WILAYAH_KELURAHAN
from shared.events.topics import VERIFICATION_OUTCOME


class ComplaintCategory(StrEnum):
    """What the complainant says went wrong (the services' shared word for it, like the flag kinds)."""

    EXCLUSION = "exclusion"  # "I was left out" / wrongly excluded
    INCLUSION = "inclusion"  # "my neighbour is paid but rich" (links to sanggah)
    PAYMENT = "payment"  # not received / amount wrong (links to the payment line and tahap)
    DATA_ERROR = "data_error"  # wrong data of the family or a member
    OFFICER_CONDUCT = "officer_conduct"
    OTHER = "other"


class ComplaintEventType(StrEnum):
    """Event types of complaints on verification.outcome.v1."""

    RECEIVED = "complaint.received"
    ASSIGNED = "complaint.assigned"
    ACTION_TAKEN = "complaint.action_taken"
    ESCALATED = "complaint.escalated"
    RESOLVED = "complaint.resolved"
    REJECTED = "complaint.rejected"
    REFERRED = "complaint.referred"


class ComplaintEvent(BaseModel):
    """A complaint was received, moved, acted on or escalated (its state after the change)."""

    model_config = ConfigDict(extra="ignore")

    reference: str = Field(min_length=1, max_length=20, description="The number the complainant was given.")
    complaint_id: str
    category: ComplaintCategory
    channel: str = Field(max_length=30)
    status: str = Field(max_length=20)
    kecamatan_code: str = Field(pattern=WILAYAH_KECAMATAN)
    kelurahan_code: str = Field(pattern=WILAYAH_KELURAHAN)
    household_id: str | None = Field(default=None, max_length=100)
    payment_line_id: str | None = Field(default=None, max_length=100)
    tahap_code: str | None = Field(default=None, max_length=50)
    notifiable: bool = Field(description="Status messages may be sent (not anonymous, a contact was left).")
    due_at: datetime
    escalation_level: int = Field(default=0, ge=0)
    reason: str | None = Field(default=None, max_length=40)
    action: str | None = Field(default=None, max_length=40, description="complaint.action_taken: what was started.")
    action_ref: str | None = Field(
        default=None,
        max_length=100,
        description="What the action made (ground_check:12, proposal:7) or asks of disbursement "
        "(reconciliation_break / payer_inquiry, with payment_line_id).",
    )
    occurred_at: datetime


for _type in ComplaintEventType:
    register(VERIFICATION_OUTCOME, _type.value, ComplaintEvent)
