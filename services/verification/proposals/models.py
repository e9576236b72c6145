"""Proposals (usulan) and kelurahan deliberations (muskel)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, Index, Integer, String, Table, Text, text

from services.verification.database import metadata
from shared.db.messaging import BigId

muskel = Table(
    "muskel",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kecamatan_code", String(20), nullable=False),
    Column("kelurahan_code", String(20), nullable=False, index=True),
    Column("held_on", Date, nullable=False),
    Column("recorded_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("minutes_signed_at", DateTime(timezone=True), nullable=True),
)

proposal = Table(
    "proposal",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(30), nullable=False),
    Column("channel", String(30), nullable=False),
    Column("household_id", String(100), nullable=True),  # NULL for a new family not yet registered
    # recipient_change: the registry member id of the proposed recipient (an id, never a NIK).
    Column("member_id", String(36), nullable=True),
    Column("kecamatan_code", String(20), nullable=False),
    Column("kelurahan_code", String(20), nullable=False),
    Column("status", String(40), nullable=False),
    Column("cycle", String(7), nullable=True),  # YYYY-MM, fixed at submission
    Column("note", Text, nullable=True),
    Column("reason_code", String(40), nullable=True),
    Column("review_comment", Text, nullable=True),
    Column("muskel_id", BigInteger, nullable=True),
    Column("ground_check_id", BigInteger, nullable=True),
    Column("batch_id", BigInteger, nullable=True),
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=True),
    Column("verified_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Index("ix_proposal_kelurahan_status", "kelurahan_code", "status"),
    Index("ix_proposal_cycle_status", "cycle", "status"),
    Index("ix_proposal_ground_check", "ground_check_id"),
    Index("ix_proposal_batch", "batch_id"),
)
