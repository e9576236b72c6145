"""Proposals (usulan) and kelurahan deliberations (muskel)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, DateTime, Index, Table, Text, text
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


class Proposal(VerificationModel, table=True):
    """One usulan (add, remove, change) on its way from draft to ratification."""

    __tablename__ = "proposal"
    __table_args__ = (
        Index("ix_proposal_kelurahan_status", "kelurahan_code", "status"),
        Index("ix_proposal_cycle_status", "cycle", "status"),
        Index("ix_proposal_ground_check", "ground_check_id"),
        Index("ix_proposal_batch", "batch_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId, sa_column_kwargs={"autoincrement": True})
    kind: str = Field(max_length=30)
    channel: str = Field(max_length=30)
    household_id: str | None = Field(default=None, max_length=100)  # NULL for a new family not yet registered
    # recipient_change: the registry member id of the proposed recipient (an id, never a NIK).
    member_id: str | None = Field(default=None, max_length=36)
    kecamatan_code: str = Field(max_length=20)
    kelurahan_code: str = Field(max_length=20)
    status: str = Field(max_length=40)
    cycle: str | None = Field(default=None, max_length=7)  # YYYY-MM, fixed at submission
    note: str | None = Field(default=None, sa_type=Text)
    reason_code: str | None = Field(default=None, max_length=40)
    review_comment: str | None = Field(default=None, sa_type=Text)
    muskel_id: int | None = Field(default=None, sa_type=BigInteger)
    ground_check_id: int | None = Field(default=None, sa_type=BigInteger)
    batch_id: int | None = Field(default=None, sa_type=BigInteger)
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    submitted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    verified_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))
    version: int = Field(sa_column_kwargs={"server_default": text("1")})


# The Core tables the set-based queries are written against.
muskel: Table = Muskel.__table__  # type: ignore[attr-defined]
proposal: Table = Proposal.__table__  # type: ignore[attr-defined]
