"""Bodies of the correction-queue API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.registry.imports.extract import COLUMNS
from shared.exports.tabular import Column


class CorrectionOut(BaseModel):
    """A queued extract row: what the file said (identifiers masked unless the role may read them), the rules
    it broke, its family and wilayah, and what became of it."""

    id: int
    import_id: str
    row_no: int
    rule: str
    field: str
    errors: list[str]
    raw: dict[str, Any]
    family_id: str | None
    kelurahan_code: str | None
    kecamatan_code: str | None
    detail: dict[str, Any] | None
    status: str
    created_at: datetime
    resolved_by: str | None
    resolved_at: datetime | None
    resolution_reason: str | None
    member_id: str | None


class CorrectionPage(BaseModel):
    """One page of the queue, oldest first; pass `next_cursor` as `cursor`."""

    items: list[CorrectionOut]
    next_cursor: str | None


class CorrectionFix(BaseModel):
    """The corrected values (extract column names, text as in the file) over the row's raw ones."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    values: dict[str, str] = Field(default_factory=dict, description='e.g. {"nik": "1371015505800001"}')
    reason: str | None = Field(default=None, min_length=3, max_length=500)

    @field_validator("values")
    @classmethod
    def _known_columns(cls, values: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(values) - set(COLUMNS))
        if unknown:
            raise ValueError(f"unknown column(s): {', '.join(unknown)}")
        if any(len(v) > 500 for v in values.values()):
            raise ValueError("a value is longer than 500 characters")
        return values


class Dismissal(BaseModel):
    """Why a queued row is dismissed (e.g. the person is already on the right KK)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=3, max_length=500)


# The columns of the correction-queue export, headed in Bahasa Indonesia (the file's row as JSON, masked).
CORRECTION_COLUMNS = (
    Column("id", "ID antrean", "number"),
    Column("import_id", "ID impor"),
    Column("row_no", "Baris ke", "number"),
    Column("rule", "Aturan"),
    Column("field", "Kolom"),
    Column("errors", "Kesalahan"),
    Column("raw", "Isi baris"),
    Column("family_id", "ID keluarga"),
    Column("kecamatan_code", "Kode kecamatan"),
    Column("kelurahan_code", "Kode kelurahan"),
    Column("status", "Status"),
    Column("created_at", "Masuk antrean", "datetime"),
    Column("resolved_by", "Diselesaikan oleh"),
    Column("resolved_at", "Diselesaikan", "datetime"),
    Column("resolution_reason", "Alasan penyelesaian"),
    Column("member_id", "ID anggota"),
)
