"""Request and response bodies of the notifications API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ContactIn(BaseModel):
    """A family's contact for notifications (at least one address unless opting out)."""

    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(
        default=None,
        pattern=r"^\+?62\d{8,13}$|^08\d{7,12}$",
        description="Mobile number for SMS/WhatsApp: 08… or +62…",
        examples=["081234567890"],
    )
    email: str | None = Field(
        default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", examples=["warga@example.id"]
    )
    opted_out: bool = Field(default=False, description="True: the family receives no notification at all.")


class ContactOut(BaseModel):
    """A contact as the API shows it: addresses masked (the API is not a phone book)."""

    recipient_id: str
    phone: str | None
    email: str | None
    opted_out: bool
    updated_by: str
    updated_at: datetime


class DeliveryOut(BaseModel):
    """One queued, sent, skipped or dead notification."""

    id: int
    event_id: str
    recipient_id: str
    channel: str
    template: str
    body: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class DeliveryPage(BaseModel):
    """Deliveries, newest first."""

    items: list[DeliveryOut]


class RetryOut(BaseModel):
    """How many dead notifications went back to the queue."""

    requeued: int
