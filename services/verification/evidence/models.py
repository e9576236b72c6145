"""Stored evidence files (visit photos, muskel minutes, lists, sanggah photos), keyed by the SHA-256 of their bytes."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Float, Index, String, Table

from services.verification.database import metadata

evidence_file = Table(
    "evidence_file",
    metadata,
    # The hash of the bytes as stored (after metadata stripping): what the records reference.
    Column("sha256", String(64), primary_key=True),
    Column("size_bytes", BigInteger, nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("purpose", String(30), nullable=False),  # visit_photo | objection_photo | minutes | list
    # The area of the record it documents: who may download it is decided by this, like every other record.
    Column("kelurahan_code", String(20), nullable=False),
    Column("gps_lat", Float, nullable=True),
    Column("gps_lon", Float, nullable=True),
    Column("uploaded_by", String(200), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
    Index("ix_evidence_file_kelurahan", "kelurahan_code"),
)
