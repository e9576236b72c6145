"""Bodies of reconciliation and the break queue."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.disbursement.reconciliation.models import BreakFields
from shared.exports.tabular import Column
from shared.http.params import NO_NUL


class Totals(BaseModel):
    """Lines and rupiah in one bucket."""

    lines: int = 0
    amount: int = 0


class ReconciliationOut(BaseModel):
    """A tahap's money: planned, at payer, paid, failed, returned; and its open breaks."""

    tahap_id: str
    planned: Totals
    at_payer: Totals
    paid: Totals
    failed: Totals
    returned: Totals
    on_hold: Totals
    cancelled: Totals
    by_status: dict[str, Totals]
    breaks_open: dict[str, int]


# Its fields are the table's (models.BreakFields); the docstring is the API's description of it.
class BreakOut(BreakFields):
    """One mismatch in the break queue."""


class ResolveIn(BaseModel):
    """How a break was settled, and why."""

    model_config = ConfigDict(extra="forbid")

    resolution: Literal["payer_corrected", "line_corrected", "recovery_started", "accepted", "false_positive"]
    note: str = Field(pattern=NO_NUL, min_length=3, max_length=500)


# The columns of the break-queue exports, headed in Bahasa Indonesia, in BreakOut's order.
BREAK_COLUMNS = (
    Column("id", "ID selisih", "number"),
    Column("tahap_id", "ID tahap"),
    Column("kind", "Jenis selisih"),
    Column("line_key", "Kunci baris"),
    Column("line_id", "ID baris", "number"),
    Column("household_id", "ID keluarga"),
    Column("kecamatan_code", "Kode kecamatan"),
    Column("kelurahan_code", "Kode kelurahan"),
    Column("expected_amount", "Nominal seharusnya (Rp)", "number"),
    Column("reported_amount", "Nominal dilaporkan (Rp)", "number"),
    Column("status", "Status"),
    Column("detected_at", "Terdeteksi", "datetime"),
    Column("resolved_by", "Diselesaikan oleh"),
    Column("resolved_at", "Diselesaikan", "datetime"),
    Column("resolution", "Penyelesaian"),
    Column("resolution_note", "Catatan penyelesaian"),
)
