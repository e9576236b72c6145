"""Desil snapshots: BPS's quarterly ranking of a family, external and never edited (DOMAIN §3)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, UniqueConstraint

from services.registry.database import metadata
from shared.db.messaging import BigId
from shared.db.types import IdText

desil_snapshot = Table(
    "desil_snapshot",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("family_id", IdText(36), ForeignKey("family.id", name="fk_desil_family"), nullable=False),
    Column("period", String(20), nullable=False),
    Column("desil", Integer, nullable=False),
    Column("source", String(50), nullable=False),
    Column("import_batch_id", String(100), nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    # One ranking per family per period: a re-import of the same period changes nothing.
    UniqueConstraint("family_id", "period", name="uq_desil_family_period"),
)
