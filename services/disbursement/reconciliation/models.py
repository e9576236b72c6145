"""The break queue: every mismatch between planned lines and what payers reported, until someone resolves it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, String, Table, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.disbursement.database import DisbursementModel
from shared.db.messaging import BigId


class BreakFields(SQLModel):
    """A break as stored and as shown (`schemas.BreakOut`): one declaration of its fields for both.

    Lengths are column types (`sa_type`), not validation: a response never fails on what the database holds. No
    field has a default, so the response schema keeps every field required.
    """

    id: int
    tahap_id: str = Field(sa_type=String(36))
    # unknown_line / amount_differs / paid_twice / paid_while_on_hold / paid_after_deactivation /
    # returned_more_than_paid, found by reconciling; complaint / payer_inquiry, asked by a complaint (pengaduan)
    kind: str = Field(sa_type=String(40))
    line_key: str = Field(sa_type=String(200))
    line_id: int | None = Field(sa_type=BigInteger)
    household_id: str | None = Field(sa_type=String(100))
    kecamatan_code: str | None = Field(sa_type=String(20))
    kelurahan_code: str | None = Field(sa_type=String(20))
    expected_amount: int | None = Field(sa_type=BigInteger)
    reported_amount: int | None = Field(sa_type=BigInteger)
    # open / resolved
    status: str = Field(sa_type=String(20))
    detected_at: datetime = Field(sa_type=DateTime(timezone=True))
    resolved_by: str | None = Field(sa_type=String(200))
    resolved_at: datetime | None = Field(sa_type=DateTime(timezone=True))
    resolution: str | None = Field(sa_type=String(40))
    resolution_note: str | None = Field(sa_type=String(500))


class ReconciliationBreak(BreakFields, DisbursementModel, table=True):
    """One mismatch of a tahap (a line paid twice, an amount that differs, …) and how it was resolved."""

    __tablename__ = "reconciliation_break"
    __table_args__ = (
        # Reconciling again finds the same mismatch, not a new one.
        UniqueConstraint("tahap_id", "kind", "line_key", name="uq_break"),
        Index("ix_break_tahap_status", "tahap_id", "status"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))  # type: ignore[assignment]


# The Core table, under its old name: the set-based queries are written against it.
reconciliation_break: Table = ReconciliationBreak.__table__  # type: ignore[attr-defined]
