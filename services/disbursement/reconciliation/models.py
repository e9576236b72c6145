"""The break queue: every mismatch between planned lines and what payers reported, until someone resolves it."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, String, Table, UniqueConstraint

from services.disbursement.database import metadata
from shared.db.messaging import BigId

reconciliation_break = Table(
    "reconciliation_break",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tahap_id", String(36), nullable=False),
    # unknown_line / amount_differs / paid_twice / paid_while_on_hold / paid_after_deactivation /
    # returned_more_than_paid, found by reconciling; complaint / payer_inquiry, asked by a complaint (pengaduan)
    Column("kind", String(40), nullable=False),
    Column("line_key", String(200), nullable=False),
    Column("line_id", BigInteger, nullable=True),
    Column("household_id", String(100), nullable=True),
    Column("kecamatan_code", String(20), nullable=True),
    Column("kelurahan_code", String(20), nullable=True),
    Column("expected_amount", BigInteger, nullable=True),
    Column("reported_amount", BigInteger, nullable=True),
    # open / resolved
    Column("status", String(20), nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    Column("resolved_by", String(200), nullable=True),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("resolution", String(40), nullable=True),
    Column("resolution_note", String(500), nullable=True),
    # Reconciling again finds the same mismatch, not a new one.
    UniqueConstraint("tahap_id", "kind", "line_key", name="uq_break"),
    Index("ix_break_tahap_status", "tahap_id", "status"),
)
