"""Objections (sanggah) by residents against a family's eligibility."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Float, Index, Integer, String, Table, Text, text

from services.verification.database import metadata
from shared.db.messaging import BigId

objection = Table(
    "objection",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("household_id", String(100), nullable=False, index=True),
    Column("kecamatan_code", String(20), nullable=False),
    Column("kelurahan_code", String(20), nullable=False),
    Column("objector_kelurahan_code", String(20), nullable=False),
    Column("grounds", String(40), nullable=False),
    Column("photo_sha256", String(64), nullable=False),
    Column("photo_media_type", String(100), nullable=False),
    Column("gps_lat", Float, nullable=False),
    Column("gps_lon", Float, nullable=False),
    Column("status", String(30), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", String(100), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decided_by", String(100), nullable=True),
    Column("decision_reason", String(40), nullable=True),
    Column("decision_note", Text, nullable=True),
    Column("ground_check_id", BigInteger, nullable=True),
    Column("removal_proposal_id", BigInteger, nullable=True),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Index("ix_objection_status_due", "status", "due_at"),
    Index("ix_objection_kelurahan_status", "kelurahan_code", "status"),
)
