"""Payer status reports (bank, Pos, ministry export): the files, their rows, errors and the staging table."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, Index, Integer, String, Table, UniqueConstraint

from services.disbursement.database import metadata
from shared.db.messaging import BigId

payer_report = Table(
    "payer_report",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tahap_id", String(36), nullable=False),
    # bank / pos / ministry
    Column("source", String(20), nullable=False),
    Column("filename", String(300), nullable=False),
    # The same file imported twice is recognised by its content and changes nothing.
    Column("file_sha256", String(64), nullable=False, unique=True),
    Column("imported_by", String(200), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("rows_total", Integer, nullable=False),
    Column("rows_applied", Integer, nullable=False),
    Column("rows_duplicate", Integer, nullable=False),
    Column("rows_error", Integer, nullable=False),
)

# What payers said, row by row, kept for reconciliation. The natural key makes a row reported again (in another
# file) a no-op, while the same line reported paid under two references stays visible as two rows.
payer_report_row = Table(
    "payer_report_row",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("report_id", String(36), nullable=False),
    Column("row_no", Integer, nullable=False),
    Column("tahap_id", String(36), nullable=False),
    Column("line_id", BigInteger, nullable=True),
    Column("line_key", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("amount", BigInteger, nullable=True),
    Column("event_date", Date, nullable=True),
    Column("reference", String(100), nullable=False),
    Column("failure_reason", String(40), nullable=True),
    # Every reader asks for one tahap's rows, which this key serves; a line_id index only cost imports time.
    UniqueConstraint("tahap_id", "line_key", "status", "reference", name="uq_payer_report_row"),
)

payer_report_error = Table(
    "payer_report_error",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("report_id", String(36), nullable=False),
    Column("row_no", Integer, nullable=False),
    Column("line_key", String(200), nullable=True),
    Column("reason", String(40), nullable=False),
    Column("detail", String(500), nullable=True),
    Index("ix_payer_report_error_report", "report_id", "row_no"),
)

# Rows of a file being imported; UNLOGGED on PostgreSQL (set in the migration): scratch data, rebuilt on retry.
payer_report_staging = Table(
    "payer_report_staging",
    metadata,
    Column("report_id", String(36), nullable=False),
    Column("row_no", Integer, nullable=False),
    Column("line_id", BigInteger, nullable=True),
    Column("programme_code", String(30), nullable=True),
    Column("tahap_id", String(36), nullable=True),
    Column("household_id", String(100), nullable=True),
    Column("status", String(20), nullable=False),
    Column("amount", BigInteger, nullable=True),
    Column("event_date", Date, nullable=True),
    Column("reference", String(100), nullable=False),
    Column("failure_reason", String(40), nullable=True),
    Column("line_key", String(200), nullable=False),
    # NULL (pending) / applied / duplicate / error
    Column("outcome", String(20), nullable=True),
    Column("error", String(40), nullable=True),
    Index("ix_payer_report_staging", "report_id", "line_id"),
    Index("ix_payer_report_staging_key", "report_id", "line_key", "status"),
)
