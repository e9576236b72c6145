"""Response bodies of payer report imports."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from shared.exports.tabular import Column


class RowErrorOut(BaseModel):
    """One row of a payer file that did not apply, and why."""

    row_no: int
    line_key: str | None
    reason: str
    detail: str | None


# The columns of the error-report exports, headed in Bahasa Indonesia.
ERROR_COLUMNS = (
    Column("row_no", "Nomor baris", "number"),
    Column("line_key", "Kunci baris"),
    Column("reason", "Alasan"),
    Column("detail", "Keterangan"),
)


class ReportOut(BaseModel):
    """An imported payer file and what it did."""

    id: str
    tahap_id: str
    source: str
    filename: str
    file_sha256: str
    imported_by: str
    imported_at: datetime
    rows_total: int
    rows_applied: int
    rows_duplicate: int
    rows_error: int
    already_imported: bool = False
    errors: list[RowErrorOut] = []
