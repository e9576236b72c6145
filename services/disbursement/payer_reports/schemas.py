"""Response bodies of payer report imports."""

from __future__ import annotations

from pydantic import BaseModel

from services.disbursement.payer_reports.models import PayerReportFields
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


# Its stored fields are the table's (models.PayerReportFields); the docstring is the API's description of it.
class ReportOut(PayerReportFields):
    """An imported payer file and what it did."""

    already_imported: bool = False
    errors: list[RowErrorOut] = []
