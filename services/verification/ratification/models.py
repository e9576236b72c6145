"""Ratification batches (pengesahan) of eligible proposals of one monthly cycle."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Table, text

from services.verification.database import metadata
from shared.db.messaging import BigId

ratification_batch = Table(
    "ratification_batch",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("cycle", String(7), nullable=False),
    Column("wilayah_code", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("proposal_count", Integer, nullable=False),
    Column("prepared_by", String(100), nullable=False),
    Column("prepared_at", DateTime(timezone=True), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=True),
    Column("ratified_by", String(100), nullable=True),
    Column("ratified_at", DateTime(timezone=True), nullable=True),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("version", Integer, nullable=False, server_default=text("1")),
)
