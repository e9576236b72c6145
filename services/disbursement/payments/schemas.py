"""Request and response bodies of payment lines."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.events.payment import PaymentFailureReason, PaymentLineStatusCode
from shared.exports.tabular import Column
from shared.http.params import NO_NUL


class LineOut(BaseModel):
    """A payment line (ids, codes and amounts only)."""

    line_id: int
    programme_code: str
    tahap_id: str
    household_id: str
    kecamatan_code: str
    kelurahan_code: str
    recipient_member_id: str | None
    amount: int
    status: str
    held_from: str | None
    hold_reason: str | None
    failure_reason: str | None
    paid_amount: int | None
    paid_on: date | None
    returned_amount: int | None
    returned_on: date | None
    payer_reference: str | None
    decided_by: str | None
    decision_reason: str | None
    version: int
    updated_at: datetime


# The columns of the payment-line exports, headed in Bahasa Indonesia, in LineOut's order.
LINE_COLUMNS = (
    Column("line_id", "ID baris", "number"),
    Column("programme_code", "Kode program"),
    Column("tahap_id", "ID tahap"),
    Column("household_id", "ID keluarga"),
    Column("kecamatan_code", "Kode kecamatan"),
    Column("kelurahan_code", "Kode kelurahan"),
    Column("amount", "Nominal (Rp)", "number"),
    Column("status", "Status"),
    Column("held_from", "Status sebelum ditahan"),
    Column("hold_reason", "Alasan penahanan"),
    Column("failure_reason", "Alasan gagal"),
    Column("paid_amount", "Nominal tersalur (Rp)", "number"),
    Column("paid_on", "Tanggal tersalur", "date"),
    Column("returned_amount", "Nominal retur (Rp)", "number"),
    Column("returned_on", "Tanggal retur", "date"),
    Column("payer_reference", "Referensi penyalur"),
    Column("decided_by", "Diputuskan oleh"),
    Column("decision_reason", "Alasan keputusan"),
    Column("version", "Versi", "number"),
    Column("updated_at", "Diperbarui", "datetime"),
)


class TransitionIn(BaseModel):
    """Move one line (city programmes, disputes from audit findings)."""

    model_config = ConfigDict(extra="forbid")

    status: PaymentLineStatusCode
    failure_reason: PaymentFailureReason | None = None
    amount: int | None = Field(default=None, ge=0, description="Paid or returned amount (default: the line's).")
    on: date | None = Field(default=None, description="Day paid or returned (default today).")
    reference: str | None = Field(pattern=NO_NUL, default=None, max_length=100)
    reason: str | None = Field(pattern=NO_NUL, default=None, max_length=500)


class AdvanceIn(BaseModel):
    """Move every line of a tahap in one status to the next (e.g. planned → spm), set-based."""

    model_config = ConfigDict(extra="forbid")

    from_status: PaymentLineStatusCode
    to_status: PaymentLineStatusCode


class AdvanceOut(BaseModel):
    """How many lines moved."""

    tahap_id: str
    from_status: str
    to_status: str
    moved: int
