"""The proposal (usulan) table and its kinds, below the proposals and ground-check features that both need them.

A complete usulan opens a ground check (proposals → groundchecks) and approving the check moves the usulan waiting on
it (groundchecks → this table): keeping the table here, rather than in proposals, keeps that from being a cycle.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, Index, Table, Text, text
from sqlmodel import Field

from services.verification.database import VerificationModel
from shared.db.messaging import BigId


class ProposalKind(StrEnum):
    """What a proposal asks for."""

    NEW_FAMILY = "new_family"
    DATA_CORRECTION = "data_correction"
    DESIL_REVIEW = "desil_review"
    REMOVAL = "removal"
    WITHDRAWAL = "withdrawal"
    # A replacement recipient (pengurus pengganti / ahli waris) after the recipient died (issue 12 item 4).
    RECIPIENT_CHANGE = "recipient_change"


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


# The Core table the set-based queries are written against.
proposal: Table = Proposal.__table__  # type: ignore[attr-defined]
