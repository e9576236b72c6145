"""Contacts of the people Tepat notifies, and the notification outbox (one row per event, recipient, channel)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Table, Text, UniqueConstraint, false
from sqlmodel import Field

from services.verification.database import VerificationModel
from shared.db.messaging import BigId


class NotificationContact(VerificationModel, table=True):
    """How to reach one recipient, and whether they opted out.

    Phone numbers and e-mail addresses live here only, never in events: a family's contact is keyed by its household
    id, a complainant's by the complaint's reference number (docs/NOTIFICATIONS.md).
    """

    __tablename__ = "notification_contact"

    recipient_id: str = Field(primary_key=True, max_length=100)
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)
    opted_out: bool = Field(sa_column_kwargs={"server_default": false()})
    updated_by: str = Field(max_length=100)
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))


class NotificationDelivery(VerificationModel, table=True):
    """The notification outbox. The unique key makes a redelivered or replayed event enqueue nothing new."""

    __tablename__ = "notification_delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient_id", "channel", "template", name="uq_notification_delivery_once"),
        Index("ix_notification_delivery_due", "status", "next_attempt_at"),
        Index("ix_notification_delivery_recipient", "recipient_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId, sa_column_kwargs={"autoincrement": True})
    event_id: str = Field(max_length=64)
    recipient_id: str = Field(max_length=100)
    channel: str = Field(max_length=10)  # sms (phone: SMS/WhatsApp gateway) or email
    template: str = Field(max_length=40)
    subject: str = Field(max_length=200)
    body: str = Field(sa_type=Text)
    # pending → sent | dead (attempts exhausted) | skipped (opted out or contact gone before sending)
    status: str = Field(max_length=10)
    attempts: int = Field(sa_column_kwargs={"server_default": "0"})
    next_attempt_at: datetime = Field(sa_type=DateTime(timezone=True))
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    sent_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


# The Core tables the set-based queries are written against.
notification_contact: Table = NotificationContact.__table__  # type: ignore[attr-defined]
notification_delivery: Table = NotificationDelivery.__table__  # type: ignore[attr-defined]
