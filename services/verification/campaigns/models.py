"""Revalidation campaigns ("revalidate before tahap")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Table, Text
from sqlmodel import Field

from services.verification.database import VerificationModel
from shared.db.messaging import BigId


class Campaign(VerificationModel, table=True):
    """A revalidation campaign: which kecamatan, which families, and how many ground checks it opened."""

    __tablename__ = "campaign"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId, sa_column_kwargs={"autoincrement": True})
    name: str = Field(max_length=200)
    kecamatan_codes: str = Field(sa_type=Text)  # JSON list
    not_verified_months: int
    desil_max: int | None = None
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    created_checks: int


# The Core table the set-based queries are written against.
campaign: Table = Campaign.__table__  # type: ignore[attr-defined]
