"""Desil snapshots: BPS's quarterly ranking of a family, external and never edited (DOMAIN §3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Table, UniqueConstraint
from sqlmodel import Field

from services.registry.database import RegistryModel
from shared.db.messaging import BigId
from shared.db.types import IdText


class DesilSnapshot(RegistryModel, table=True):
    """A family's desil in one period, as BPS ranked it."""

    __tablename__ = "desil_snapshot"
    # One ranking per family per period: a re-import of the same period changes nothing.
    __table_args__ = (UniqueConstraint("family_id", "period", name="uq_desil_family_period"),)

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True, sa_column_kwargs={"autoincrement": True})
    family_id: str = Field(sa_type=IdText(36), sa_column_args=[ForeignKey("family.id", name="fk_desil_family")])
    period: str = Field(max_length=20)
    desil: int
    source: str = Field(max_length=50)
    import_batch_id: str | None = Field(default=None, max_length=100)
    recorded_at: datetime = Field(sa_type=DateTime(timezone=True))


# The Core table every set-based query is written against.
desil_snapshot: Table = DesilSnapshot.__table__  # type: ignore[attr-defined]
