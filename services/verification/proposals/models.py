"""Kelurahan deliberations (muskel); the proposal (usulan) table is in `services.verification.proposal_records`."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DateTime, Table
from sqlmodel import Field

from services.verification.database import VerificationModel
from shared.db.messaging import BigId


class Muskel(VerificationModel, table=True):
    """A kelurahan deliberation (musyawarah kelurahan) whose signed minutes back the usulan it agreed."""

    __tablename__ = "muskel"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId, sa_column_kwargs={"autoincrement": True})
    kecamatan_code: str = Field(max_length=20)
    kelurahan_code: str = Field(max_length=20, index=True)
    held_on: date
    recorded_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    minutes_signed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


# The Core table the set-based queries are written against.
muskel: Table = Muskel.__table__  # type: ignore[attr-defined]
