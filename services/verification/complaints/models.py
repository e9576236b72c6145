"""Complaints (pengaduan) and the actions they started."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Table, Text, false, text
from sqlmodel import Field

from services.verification.database import VerificationModel
from shared.db.messaging import BigId


class Complaint(VerificationModel, table=True):
    """One pengaduan: what it is about, who raised it, and where its handling stands."""

    __tablename__ = "complaint"
    __table_args__ = (
        Index("ix_complaint_status_due", "status", "due_at"),
        Index("ix_complaint_kelurahan_status", "kelurahan_code", "status"),
        Index("ix_complaint_household", "household_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId, sa_column_kwargs={"autoincrement": True})
    reference: str = Field(max_length=20, unique=True)
    channel: str = Field(max_length=30)
    category: str = Field(max_length=30)
    status: str = Field(max_length=20)
    kecamatan_code: str = Field(max_length=20)
    kelurahan_code: str = Field(max_length=20)
    # Links by id only: the family and member (registry), the payment line and tahap (disbursement), a sanggah.
    household_id: str | None = Field(default=None, max_length=100)
    member_id: str | None = Field(default=None, max_length=36)
    payment_line_id: int | None = Field(default=None, sa_type=BigInteger)
    tahap_code: str | None = Field(default=None, max_length=50)
    objection_id: int | None = Field(default=None, sa_type=BigInteger)
    external_ref: str | None = Field(default=None, max_length=100)  # the LAPOR! case number or the gateway's message id
    description: str = Field(sa_type=Text)
    # Personal data of the complainant: shown masked, read in full only through the audited contact route.
    anonymous: bool = Field(sa_column_kwargs={"server_default": false()})
    contact_name: str | None = Field(default=None, max_length=200)
    contact_phone: str | None = Field(default=None, max_length=40)
    received_at: datetime = Field(sa_type=DateTime(timezone=True))
    due_at: datetime = Field(sa_type=DateTime(timezone=True))
    escalation_level: int = Field(sa_column_kwargs={"server_default": text("0")})
    escalated_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    assigned_to: str | None = Field(default=None, max_length=100)
    assigned_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    ground_check_id: int | None = Field(default=None, sa_type=BigInteger)
    proposal_id: int | None = Field(default=None, sa_type=BigInteger)
    referral: str | None = Field(default=None, max_length=40)  # a payment action asked of disbursement
    close_reason: str | None = Field(default=None, max_length=40)
    close_note: str | None = Field(default=None, sa_type=Text)
    closed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    closed_by: str | None = Field(default=None, max_length=100)
    recorded_by: str = Field(max_length=100)
    version: int = Field(sa_column_kwargs={"server_default": text("1")})


# The Core table the set-based queries are written against.
complaint: Table = Complaint.__table__  # type: ignore[attr-defined]
