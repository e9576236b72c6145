"""Revalidation campaigns ("revalidate before tahap")."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Table, Text

from services.verification.database import metadata
from shared.db.messaging import BigId

campaign = Table(
    "campaign",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("kecamatan_codes", Text, nullable=False),  # JSON list
    Column("not_verified_months", Integer, nullable=False),
    Column("desil_max", Integer, nullable=True),
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_checks", Integer, nullable=False),
)
