"""Document references (muskel minutes, by-name-by-address lists): metadata only, never the files."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, String, Table, UniqueConstraint

from services.verification.database import metadata
from shared.db.messaging import BigId

attachment = Table(
    "attachment",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("owner_kind", String(20), nullable=False),  # muskel | batch
    Column("owner_id", BigInteger, nullable=False),
    Column("role", String(20), nullable=False),  # minutes | list
    Column("sha256", String(64), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("signed_by", String(100), nullable=True),
    Column("attached_by", String(100), nullable=False),
    Column("attached_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("owner_kind", "owner_id", "role", name="uq_attachment_owner_role"),
)
