"""Tables of the DCI interface: partner systems, the transactions they sent, callbacks and subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import JSON, DateTime, Index, String, Table, Text, UniqueConstraint, true
from sqlmodel import Field

from services.registry.database import RegistryModel
from services.registry.dci.records import FIELDS

# The query types of the DCI spec a partner may be allowed.
QueryType = Literal["idtype-value", "predicate", "expression"]


class DciPartnerFields(RegistryModel):
    """A partner system allowed to call the DCI endpoints: the columns of `dci_partner` the partner API takes."""

    # The header's sender_id, also the first part of the signature's kidId.
    sender_id: str = Field(
        primary_key=True, min_length=3, max_length=99, description="The header's sender_id, e.g. bank.example.id"
    )
    name: str = Field(min_length=2, max_length=200)
    # The OAuth2 token subject the partner's requests must carry (gateway client id).
    oauth_subject: str = Field(min_length=1, max_length=200, description="Subject of the partner's OAuth2 token")
    public_key_pem: str = Field(
        sa_type=Text, description="Ed25519 public key (PEM) that verifies the partner's signatures"
    )
    callback_uris: list[str] = Field(sa_type=JSON, description="The only URIs callbacks may go to")
    query_types: list[QueryType] = Field(sa_type=JSON, min_length=1)
    # Wilayah codes (kota, kecamatan or kelurahan) whose records the partner may see.
    wilayah: list[str] = Field(
        sa_type=JSON, min_length=1, description="Wilayah codes whose records the partner may see"
    )
    # DCI record fields the partner receives.
    fields: list[str] = Field(
        sa_type=JSON, min_length=1, description=f"Record fields the partner receives, from {list(FIELDS)}"
    )
    active: bool = Field(sa_column_kwargs={"server_default": true()})


class DciPartner(DciPartnerFields, table=True):
    """A registered partner system: its key, callbacks, wilayah and fields."""

    __tablename__ = "dci_partner"

    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))


class DciTransaction(RegistryModel, table=True):
    """A message a partner sent, its requests' statuses, and for async requests what is still to answer."""

    __tablename__ = "dci_transaction"
    __table_args__ = (
        # A message id is used once per sender (the spec's rjct.message_id.duplicate).
        UniqueConstraint("sender_id", "message_id", name="uq_dci_transaction_message"),
        Index("ix_dci_transaction_txn", "sender_id", "transaction_id"),
    )

    # The correlation_id Tepat gives the partner.
    correlation_id: str = Field(sa_type=String(36), primary_key=True)
    sender_id: str = Field(max_length=99)
    message_id: str = Field(max_length=99)
    transaction_id: str = Field(max_length=99)
    action: str = Field(max_length=30)
    # rcvd / pdng / succ / rjct (the spec's request status)
    status: str = Field(max_length=4)
    # One entry per request of the message: reference_id, status and status_reason_code (what txn/status reports).
    requests: list[dict[str, Any]] = Field(sa_type=JSON)
    record_count: int = Field(sa_column_kwargs={"server_default": "0"})
    received_at: datetime = Field(sa_type=DateTime(timezone=True))
    completed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # Async requests: the message still to be answered and where the answer goes (None once answered / sync).
    pending_message: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    callback_uri: str | None = Field(default=None, sa_type=Text)


class DciCallback(RegistryModel, table=True):
    """Callbacks to partners (on-search, on-subscribe, on-unsubscribe, txn-on-status, notify).

    An outbox of HTTP deliveries with retries, exponential backoff and a dead-letter state operators can list and
    retry."""

    __tablename__ = "dci_callback"
    __table_args__ = (
        Index("ix_dci_callback_due", "status", "next_attempt_at"),
        Index("ix_dci_callback_family", "sender_id", "family_id", "id"),
        Index("ix_dci_callback_correlation", "correlation_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_column_kwargs={"autoincrement": True})
    sender_id: str = Field(max_length=99)
    # The header's message_id, fixed when the callback is queued: every retry carries the same one, so the
    # partner can de-duplicate.
    message_id: str = Field(max_length=99, unique=True)
    correlation_id: str | None = Field(default=None, sa_type=String(36))
    action: str = Field(max_length=30)
    uri: str = Field(sa_type=Text)
    # {"header": …, "message": …}, signed when sent (a signature expires, the message does not).
    body: dict[str, Any] = Field(sa_type=JSON)
    # For notify: the family, so one family's notifications go out in order.
    family_id: str | None = Field(default=None, sa_type=String(36))
    # queued / delivering / delivered / dead
    status: str = Field(max_length=12)
    attempts: int = Field(sa_column_kwargs={"server_default": "0"})
    next_attempt_at: datetime = Field(sa_type=DateTime(timezone=True))
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    delivered_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class DciSubscription(RegistryModel, table=True):
    """A partner's subscription to changes of the families its filter selects (inside its wilayah)."""

    __tablename__ = "dci_subscription"
    __table_args__ = (Index("ix_dci_subscription_sender", "sender_id", "status"),)

    # The subscription code Tepat gives the partner.
    code: str = Field(sa_type=String(36), primary_key=True)
    sender_id: str = Field(max_length=99)
    reference_id: str = Field(max_length=99)
    reg_event_type: str = Field(max_length=100)
    filter_type: str = Field(max_length=20)
    # The subscribe_criteria as received (filter, notify_record_type, …): parsed again for every event.
    criteria: dict[str, Any] = Field(sa_type=JSON)
    uri: str = Field(sa_type=Text)
    # subscribe / unsubscribe (the spec's subscription status)
    status: str = Field(max_length=12)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    ended_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


# The Core tables every query is written against.
dci_partner: Table = DciPartner.__table__  # type: ignore[attr-defined]
dci_transaction: Table = DciTransaction.__table__  # type: ignore[attr-defined]
dci_callback: Table = DciCallback.__table__  # type: ignore[attr-defined]
dci_subscription: Table = DciSubscription.__table__  # type: ignore[attr-defined]
