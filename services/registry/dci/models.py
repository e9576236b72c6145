"""Tables of the DCI interface: partner systems and the transactions they sent."""

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
    # A message id is used once per sender (the spec's rjct.message_id.duplicate).
    UniqueConstraint("sender_id", "message_id", name="uq_dci_transaction_message"),
    Index("ix_dci_transaction_txn", "sender_id", "transaction_id"),
)
