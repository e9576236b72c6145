"""Objections (sanggah) by residents against a family's eligibility."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Table, Text, text
from sqlmodel import Field

from services.verification.database import VerificationModel
from shared.db.messaging import BigId


class Objection(VerificationModel, table=True):
    """One sanggah: who objected to which family, on what grounds, and how it was decided."""

    __tablename__ = "objection"
    __table_args__ = (
        Index("ix_objection_status_due", "status", "due_at"),
        Index("ix_objection_kelurahan_status", "kelurahan_code", "status"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId, sa_column_kwargs={"autoincrement": True})
    household_id: str = Field(max_length=100, index=True)
    kecamatan_code: str = Field(max_length=20)
    kelurahan_code: str = Field(max_length=20)
    objector_kelurahan_code: str = Field(max_length=20)
    grounds: str = Field(max_length=40)
    photo_sha256: str = Field(max_length=64)
    photo_media_type: str = Field(max_length=100)
    gps_lat: float
    gps_lon: float
    status: str = Field(max_length=30)
    received_at: datetime = Field(sa_type=DateTime(timezone=True))
    due_at: datetime = Field(sa_type=DateTime(timezone=True))
    recorded_by: str = Field(max_length=100)
    decided_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    decided_by: str | None = Field(default=None, max_length=100)
    decision_reason: str | None = Field(default=None, max_length=40)
    decision_note: str | None = Field(default=None, sa_type=Text)
    ground_check_id: int | None = Field(default=None, sa_type=BigInteger)
    removal_proposal_id: int | None = Field(default=None, sa_type=BigInteger)
    version: int = Field(sa_column_kwargs={"server_default": text("1")})


# The Core table the set-based queries are written against.
objection: Table = Objection.__table__  # type: ignore[attr-defined]
