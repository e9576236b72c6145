"""The break queue: every mismatch between planned lines and what payers reported, until someone resolves it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, Table, UniqueConstraint
from sqlmodel import Field

from services.disbursement.database import DisbursementModel
from shared.db.messaging import BigId


class ReconciliationBreak(DisbursementModel, table=True):
    """One mismatch of a tahap (a line paid twice, an amount that differs, …) and how it was resolved."""

    __tablename__ = "reconciliation_break"
    __table_args__ = (
        # Reconciling again finds the same mismatch, not a new one.
        UniqueConstraint("tahap_id", "kind", "line_key", name="uq_break"),
        Index("ix_break_tahap_status", "tahap_id", "status"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    tahap_id: str = Field(max_length=36)
    # unknown_line / amount_differs / paid_twice / paid_while_on_hold / paid_after_deactivation /
    # returned_more_than_paid, found by reconciling; complaint / payer_inquiry, asked by a complaint (pengaduan)
    kind: str = Field(max_length=40)
    line_key: str = Field(max_length=200)
    line_id: int | None = Field(default=None, sa_type=BigInteger)
    household_id: str | None = Field(default=None, max_length=100)
    kecamatan_code: str | None = Field(default=None, max_length=20)
    kelurahan_code: str | None = Field(default=None, max_length=20)
    expected_amount: int | None = Field(default=None, sa_type=BigInteger)
    reported_amount: int | None = Field(default=None, sa_type=BigInteger)
    # open / resolved
    status: str = Field(max_length=20)
    detected_at: datetime = Field(sa_type=DateTime(timezone=True))
    resolved_by: str | None = Field(default=None, max_length=200)
    resolved_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    resolution: str | None = Field(default=None, max_length=40)
    resolution_note: str | None = Field(default=None, max_length=500)


# The Core table, under its old name: the set-based queries are written against it.
reconciliation_break: Table = ReconciliationBreak.__table__  # type: ignore[attr-defined]
