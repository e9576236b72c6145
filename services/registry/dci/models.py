"""Tables of the DCI interface: partner systems, the transactions they sent, callbacks and subscriptions."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Index, Integer, String, Table, Text, UniqueConstraint, true

from services.registry.database import metadata

dci_partner = Table(
    "dci_partner",
    metadata,
    # The header's sender_id, also the first part of the signature's kidId.
    Column("sender_id", String(99), primary_key=True),
    Column("name", String(200), nullable=False),
    # The OAuth2 token subject the partner's requests must carry (gateway client id).
    Column("oauth_subject", String(200), nullable=False),
    Column("public_key_pem", Text, nullable=False),
    Column("callback_uris", JSON, nullable=False),
    Column("query_types", JSON, nullable=False),
    # Wilayah codes (kota, kecamatan or kelurahan) whose records the partner may see.
    Column("wilayah", JSON, nullable=False),
    # DCI record fields the partner receives (see services/registry/dci/records.py FIELDS).
    Column("fields", JSON, nullable=False),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

dci_transaction = Table(
    "dci_transaction",
    metadata,
    # The correlation_id Tepat gives the partner.
    Column("correlation_id", String(36), primary_key=True),
    Column("sender_id", String(99), nullable=False),
    Column("message_id", String(99), nullable=False),
    Column("transaction_id", String(99), nullable=False),
    Column("action", String(30), nullable=False),
    # rcvd / pdng / succ / rjct (the spec's request status)
    Column("status", String(4), nullable=False),
    # One entry per request of the message: reference_id, status and status_reason_code (what txn/status reports).
    Column("requests", JSON, nullable=False),
    Column("record_count", Integer, nullable=False, server_default="0"),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    # Async requests: the message still to be answered and where the answer goes (None once answered / sync).
    Column("pending_message", JSON, nullable=True),
    Column("callback_uri", Text, nullable=True),
    # A message id is used once per sender (the spec's rjct.message_id.duplicate).
    UniqueConstraint("sender_id", "message_id", name="uq_dci_transaction_message"),
    Index("ix_dci_transaction_txn", "sender_id", "transaction_id"),
)

# Callbacks to partners (on-search, on-subscribe, on-unsubscribe, txn-on-status, notify): an outbox of HTTP
# deliveries with retries, exponential backoff and a dead-letter state operators can list and retry.
dci_callback = Table(
    "dci_callback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender_id", String(99), nullable=False),
    # The header's message_id, fixed when the callback is queued: every retry carries the same one, so the
    # partner can de-duplicate.
    Column("message_id", String(99), nullable=False, unique=True),
    Column("correlation_id", String(36), nullable=True),
    Column("action", String(30), nullable=False),
    Column("uri", Text, nullable=False),
    # {"header": …, "message": …}, signed when sent (a signature expires, the message does not).
    Column("body", JSON, nullable=False),
    # For notify: the family, so one family's notifications go out in order.
    Column("family_id", String(36), nullable=True),
    # queued / delivering / delivered / dead
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Index("ix_dci_callback_due", "status", "next_attempt_at"),
    Index("ix_dci_callback_family", "sender_id", "family_id", "id"),
    Index("ix_dci_callback_correlation", "correlation_id"),
)

# A partner's subscription to changes of the families its filter selects (inside its wilayah).
dci_subscription = Table(
    "dci_subscription",
    metadata,
    # The subscription code Tepat gives the partner.
    Column("code", String(36), primary_key=True),
    Column("sender_id", String(99), nullable=False),
    Column("reference_id", String(99), nullable=False),
    Column("reg_event_type", String(100), nullable=False),
    Column("filter_type", String(20), nullable=False),
    # The subscribe_criteria as received (filter, notify_record_type, …): parsed again for every event.
    Column("criteria", JSON, nullable=False),
    Column("uri", Text, nullable=False),
    # subscribe / unsubscribe (the spec's subscription status)
    Column("status", String(12), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Index("ix_dci_subscription_sender", "sender_id", "status"),
)
