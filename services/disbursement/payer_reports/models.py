"""Payer status reports (bank, Pos, ministry export): the files, their rows, errors and the staging table."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, String, Table, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.disbursement.database import DisbursementModel
from shared.db.messaging import BigId


class PayerReportFields(SQLModel):
    """An imported payer file as stored and as shown (`schemas.ReportOut`): one declaration of its fields for both.

    Lengths are column types (`sa_type`), not validation: a response never fails on what the database holds. No
    field has a default, so the response schema keeps every field required.
    """

    id: str = Field(sa_type=String(36), primary_key=True)
    tahap_id: str = Field(sa_type=String(36))
    # bank / pos / ministry
    source: str = Field(sa_type=String(20))
    filename: str = Field(sa_type=String(300))
    # The same file imported twice is recognised by its content and changes nothing.
    file_sha256: str = Field(sa_type=String(64), unique=True)
    imported_by: str = Field(sa_type=String(200))
    imported_at: datetime = Field(sa_type=DateTime(timezone=True))
    rows_total: int
    rows_applied: int
    rows_duplicate: int
    rows_error: int


class PayerReport(PayerReportFields, DisbursementModel, table=True):
    """One imported payer file and its row counts."""

    __tablename__ = "payer_report"


class PayerReportRow(DisbursementModel, table=True):
    """What a payer said of one line in one file.

    Kept for reconciliation. The natural key makes a row reported again (in another file) a no-op, while the same
    line reported paid under two references stays visible as two rows.
    """

    __tablename__ = "payer_report_row"
    # Every reader asks for one tahap's rows, which this key serves; a line_id index only cost imports time.
    __table_args__ = (UniqueConstraint("tahap_id", "line_key", "status", "reference", name="uq_payer_report_row"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    report_id: str = Field(max_length=36)
    row_no: int
    tahap_id: str = Field(max_length=36)
    line_id: int | None = Field(default=None, sa_type=BigInteger)
    line_key: str = Field(max_length=200)
    status: str = Field(max_length=20)
    amount: int | None = Field(default=None, sa_type=BigInteger)
    event_date: date | None = None
    reference: str = Field(max_length=100)
    failure_reason: str | None = Field(default=None, max_length=40)


class PayerReportError(DisbursementModel, table=True):
    """A row of a payer file that could not be applied, and why."""

    __tablename__ = "payer_report_error"
    __table_args__ = (Index("ix_payer_report_error_report", "report_id", "row_no"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    report_id: str = Field(max_length=36)
    row_no: int
    line_key: str | None = Field(default=None, max_length=200)
    reason: str = Field(max_length=40)
    detail: str | None = Field(default=None, max_length=500)


class PayerReportStaging(DisbursementModel, table=True):
    """A row of a file being imported: scratch data, rebuilt on retry (UNLOGGED on PostgreSQL, set in the migration)."""

    __tablename__ = "payer_report_staging"
    __table_args__ = (
        Index("ix_payer_report_staging", "report_id", "line_id"),
        Index("ix_payer_report_staging_key", "report_id", "line_key", "status"),
    )
    # The table has no primary key (scratch rows, written by COPY); the mapper needs one and a file's rows are
    # numbered once, so (report_id, row_no) identifies a row without a constraint in the database.
    __mapper_args__ = {"primary_key": ["report_id", "row_no"]}

    report_id: str = Field(max_length=36)
    row_no: int
    line_id: int | None = Field(default=None, sa_type=BigInteger)
    programme_code: str | None = Field(default=None, max_length=30)
    tahap_id: str | None = Field(default=None, max_length=36)
    household_id: str | None = Field(default=None, max_length=100)
    status: str = Field(max_length=20)
    amount: int | None = Field(default=None, sa_type=BigInteger)
    event_date: date | None = None
    reference: str = Field(max_length=100)
    failure_reason: str | None = Field(default=None, max_length=40)
    line_key: str = Field(max_length=200)
    # NULL (pending) / applied / duplicate / error
    outcome: str | None = Field(default=None, max_length=20)
    error: str | None = Field(default=None, max_length=40)


# The Core tables, under their old names: the set-based queries are written against them.
payer_report: Table = PayerReport.__table__  # type: ignore[attr-defined]
payer_report_row: Table = PayerReportRow.__table__  # type: ignore[attr-defined]
payer_report_error: Table = PayerReportError.__table__  # type: ignore[attr-defined]
payer_report_staging: Table = PayerReportStaging.__table__  # type: ignore[attr-defined]
