"""Response bodies of payer report imports."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class RowErrorOut(BaseModel):
    """One row of a payer file that did not apply, and why."""

    row_no: int
    line_key: str | None
    reason: str
    detail: str | None


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
