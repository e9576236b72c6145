"""Request and response bodies of complaints (pengaduan), and the SMS/WhatsApp webhook contract."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.verification.complaints.rules import CloseReason, ComplaintAction, ComplaintChannel
from shared.events.complaint import ComplaintCategory
from shared.events.household import WILAYAH_KELURAHAN
from shared.http.params import MAX_ID, NO_NUL, PRINTABLE

PHONE = r"^\+?[0-9][0-9 -]{5,30}$"


class ComplaintIn(BaseModel):
    """A complaint as taken at a counter, on the phone, by a kelurahan operator, in the field app or from LAPOR!.

    Routing needs the kelurahan: given, or taken from the family when household_id is given."""

    model_config = ConfigDict(extra="forbid")

    channel: ComplaintChannel
    category: ComplaintCategory
    description: str = Field(pattern=NO_NUL, min_length=3, max_length=4000)
    kelurahan_code: str | None = Field(default=None, pattern=WILAYAH_KELURAHAN)
    household_id: str | None = Field(default=None, pattern=PRINTABLE, min_length=1, max_length=100)
    member_id: str | None = Field(default=None, pattern=PRINTABLE, min_length=1, max_length=36)
    payment_line_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="Disbursement's payment line.")
    tahap_code: str | None = Field(default=None, pattern=PRINTABLE, min_length=1, max_length=50)
    external_ref: str | None = Field(
        default=None, pattern=PRINTABLE, min_length=1, max_length=100, description="LAPOR! case number, message id."
    )
    anonymous: bool = False
    contact_name: str | None = Field(default=None, pattern=PRINTABLE, min_length=1, max_length=200)
    contact_phone: str | None = Field(default=None, pattern=PHONE)

    @model_validator(mode="after")
    def _anonymous_leaves_no_contact(self) -> ComplaintIn:
        if self.anonymous and (self.contact_name or self.contact_phone):
            raise ValueError("an anonymous complaint carries no contact_name or contact_phone")
        if self.member_id is not None and self.household_id is None:
            raise ValueError("member_id needs the member's household_id")
        return self


class WebhookMessageIn(BaseModel):
    """What the SMS/WhatsApp gateway posts for one incoming message (a `system` client; see the README).

    `message_id` makes a redelivered message the same complaint; `category` and `kelurahan_code` come from the
    gateway's menu (the keyword or the numbered reply the sender chose)."""

    model_config = ConfigDict(extra="forbid")

    channel: ComplaintChannel = Field(description="sms or whatsapp")
    message_id: str = Field(pattern=PRINTABLE, min_length=1, max_length=100)
    sender: str = Field(pattern=PHONE, description="The sender's number (kept as the complainant's contact).")
    text: str = Field(pattern=NO_NUL, min_length=3, max_length=4000)
    kelurahan_code: str = Field(pattern=WILAYAH_KELURAHAN)
    category: ComplaintCategory = ComplaintCategory.OTHER
    sender_name: str | None = Field(default=None, pattern=PRINTABLE, min_length=1, max_length=200)
    anonymous: bool = Field(default=False, description="The sender asked not to be named nor contacted.")

    @model_validator(mode="after")
    def _gateway_channel(self) -> WebhookMessageIn:
        if self.channel not in (ComplaintChannel.SMS, ComplaintChannel.WHATSAPP):
            raise ValueError("the webhook takes channel sms or whatsapp")
        return self


class AssignIn(BaseModel):
    """Give the complaint to an officer (a registered, active officer whose area covers its kelurahan)."""

    model_config = ConfigDict(extra="forbid")

    officer_subject: str = Field(pattern=PRINTABLE, min_length=1, max_length=100)


class ActionIn(BaseModel):
    """Start an action through an existing mechanism."""

    model_config = ConfigDict(extra="forbid")

    action: ComplaintAction
    note: str | None = Field(default=None, pattern=NO_NUL, max_length=2000)


class CloseIn(BaseModel):
    """Resolve, reject or refer, with the reason (and to whom, for a referral)."""

    model_config = ConfigDict(extra="forbid")

    reason: CloseReason
    note: str | None = Field(default=None, pattern=NO_NUL, max_length=2000)


class ComplaintOut(BaseModel):
    """A complaint; the complainant's contact is masked (the audited contact route shows it)."""

    id: int
    reference: str
    channel: str
    category: str
    status: str
    kecamatan_code: str
    kelurahan_code: str
    household_id: str | None
    member_id: str | None
    payment_line_id: int | None
    tahap_code: str | None
    objection_id: int | None
    external_ref: str | None
    description: str
    anonymous: bool
    notifiable: bool
    contact_name: str | None = Field(description="Initials only.")
    contact_phone: str | None = Field(description="Last four digits only.")
    received_at: datetime
    due_at: datetime
    sla_status: str = Field(description="on_time, due_soon, overdue or closed")
    escalation_level: int
    escalated_at: datetime | None
    assigned_to: str | None
    ground_check_id: int | None
    proposal_id: int | None
    referral: str | None
    close_reason: str | None
    close_note: str | None
    closed_at: datetime | None
    closed_by: str | None
    allowed_actions: list[str]
    version: int


class ComplaintPage(BaseModel):
    """A page of complaints and the total in the caller's scope."""

    total: int
    items: list[ComplaintOut]


class ContactOut(BaseModel):
    """The complainant's contact, unmasked (each read is in the audit log with its purpose)."""

    reference: str
    anonymous: bool
    contact_name: str | None
    contact_phone: str | None


class SummaryRow(BaseModel):
    """Complaints of one kecamatan, category and SLA status."""

    kecamatan_code: str
    category: str
    sla_status: str
    count: int


class ComplaintSummary(BaseModel):
    """Counts for the dashboard, in the caller's scope."""

    as_of: datetime
    rows: list[SummaryRow]


class EscalationResult(BaseModel):
    """What a run of the escalation job did."""

    escalated: int
