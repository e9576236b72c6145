"""Payment lines (penyaluran) and enrolment (kepesertaan) per programme."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    text,
)
from sqlmodel import Field

from services.disbursement.database import DisbursementModel
from shared.db.messaging import BigId


class PaymentLine(DisbursementModel, table=True):
    """What one family is to be paid in one tahap of one programme, and how far the money got."""

    __tablename__ = "payment_line"
    # The money guard: one line per family per programme per tahap, whatever the application does. tahap_id
    # leads so that the same index serves every per-tahap query. No index covers status: a status change then
    # touches no index and, with the free room left in each page (fillfactor 50 on PostgreSQL, set in the
    # migration), stays a HOT update even when a payer report moves 250,000 lines at once.
    __table_args__ = (
        UniqueConstraint("tahap_id", "household_id", "programme_code", name="uq_payment_line"),
        Index("ix_payment_line_household", "household_id"),
    )

    line_id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    programme_code: str = Field(max_length=30)
    tahap_id: str = Field(max_length=36)
    household_id: str = Field(max_length=100)
    kecamatan_code: str = Field(max_length=20)
    kelurahan_code: str = Field(max_length=20)
    # The registry member the money is for (from the read model when the line was made; follows a recipient
    # change while the line is unpaid). NULL for lines made before the registry named recipients.
    recipient_member_id: str | None = Field(default=None, max_length=36)
    amount: int = Field(sa_type=BigInteger)
    # planned / spm / sp2d / at_payer / paid / failed / returned / disputed / recovered / on_hold / cancelled
    status: str = Field(max_length=20)
    # The status a held line returns to when released.
    held_from: str | None = Field(default=None, max_length=20)
    hold_reason: str | None = Field(default=None, max_length=40)
    failure_reason: str | None = Field(default=None, max_length=40)
    paid_amount: int | None = Field(default=None, sa_type=BigInteger)
    paid_on: date | None = None
    returned_amount: int | None = Field(default=None, sa_type=BigInteger)
    returned_on: date | None = None
    payer_reference: str | None = Field(default=None, max_length=100)
    decided_by: str | None = Field(default=None, max_length=200)
    decision_reason: str | None = Field(default=None, max_length=500)
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default=text("1")))
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))


class Enrolment(DisbursementModel, table=True):
    """Whether a family is enrolled (kepesertaan) in a programme, and since which tahap."""

    __tablename__ = "enrolment"
    __table_args__ = (PrimaryKeyConstraint("programme_code", "household_id", name="pk_enrolment"),)

    programme_code: str = Field(max_length=30)
    household_id: str = Field(max_length=100)
    # active / ended
    status: str = Field(max_length=20)
    reason: str = Field(max_length=40)
    tahap_id: str = Field(max_length=36)
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default=text("1")))
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))


# The Core tables, under their old names: the set-based queries are written against them.
payment_line: Table = PaymentLine.__table__  # type: ignore[attr-defined]
enrolment: Table = Enrolment.__table__  # type: ignore[attr-defined]
