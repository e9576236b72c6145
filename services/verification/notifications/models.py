"""Contacts of the people Tepat notifies, and the notification outbox (one row per event, recipient, channel)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from services.verification.database import metadata
from shared.db.messaging import BigId

# Phone numbers and e-mail addresses live here only, never in events: a family's contact is keyed by its household
# id, a complainant's by the complaint's reference number (docs/NOTIFICATIONS.md).
notification_contact = Table(
    "notification_contact",
    metadata,
    Column("recipient_id", String(100), primary_key=True),
    Column("phone", String(20), nullable=True),
    Column("email", String(254), nullable=True),
    Column("opted_out", Boolean, nullable=False, server_default=false()),
    Column("updated_by", String(100), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# The notification outbox. The unique key makes a redelivered or replayed event enqueue nothing new.
notification_delivery = Table(
    "notification_delivery",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("recipient_id", String(100), nullable=False),
    Column("channel", String(10), nullable=False),  # sms (phone: SMS/WhatsApp gateway) or email
    Column("template", String(40), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    # pending → sent | dead (attempts exhausted) | skipped (opted out or contact gone before sending)
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", String(500), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("event_id", "recipient_id", "channel", "template", name="uq_notification_delivery_once"),
    Index("ix_notification_delivery_due", "status", "next_attempt_at"),
    Index("ix_notification_delivery_recipient", "recipient_id"),
)
