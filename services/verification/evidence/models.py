"""Stored evidence files (visit photos, muskel minutes, lists, sanggah photos), keyed by the SHA-256 of their bytes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Table
from sqlmodel import Field

from services.verification.database import VerificationModel


class EvidenceFile(VerificationModel, table=True):
    """One stored file and the area of the record it documents."""

    __tablename__ = "evidence_file"
    __table_args__ = (Index("ix_evidence_file_kelurahan", "kelurahan_code"),)

    # The hash of the bytes as stored (after metadata stripping): what the records reference.
    sha256: str = Field(primary_key=True, max_length=64)
    size_bytes: int = Field(sa_type=BigInteger)
    media_type: str = Field(max_length=100)
    purpose: str = Field(max_length=30)  # visit_photo | objection_photo | minutes | list
    # The area of the record it documents: who may download it is decided by this, like every other record.
    kelurahan_code: str = Field(max_length=20)
    gps_lat: float | None = None
    gps_lon: float | None = None
    uploaded_by: str = Field(max_length=200)
    uploaded_at: datetime = Field(sa_type=DateTime(timezone=True))


# The Core table the set-based queries are written against.
evidence_file: Table = EvidenceFile.__table__  # type: ignore[attr-defined]
