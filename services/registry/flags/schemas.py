"""Bodies of the flags API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.exports.tabular import Column


class FlagOut(BaseModel):
    """A data-quality flag (no identifiers: the detail holds codes and counts)."""

    id: int
    family_id: str
    member_id: str | None
    kelurahan_code: str
    kind: str
    sub_kind: str | None
    status: str
    source: str
    detail: dict[str, Any] | None
    raised_at: datetime
    resolved_by: str | None
    resolved_at: datetime | None
    resolution_reason: str | None


class FlagPage(BaseModel):
    """One page of flags, newest first; pass `next_cursor` as `cursor`."""

    items: list[FlagOut]
    next_cursor: str | None


class Resolution(BaseModel):
    """Why a flag is confirmed or refuted."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=3, max_length=500)


# The columns of the flag export, headed in Bahasa Indonesia.
FLAG_COLUMNS = (
    Column("id", "ID tanda", "number"),
    Column("family_id", "ID keluarga"),
    Column("member_id", "ID anggota"),
    Column("kelurahan_code", "Kode kelurahan"),
    Column("kind", "Jenis"),
    Column("sub_kind", "Sub-jenis"),
    Column("status", "Status"),
    Column("source", "Sumber"),
    Column("detail", "Rincian"),
    Column("raised_at", "Dimunculkan", "datetime"),
    Column("resolved_by", "Diselesaikan oleh"),
    Column("resolved_at", "Diselesaikan", "datetime"),
    Column("resolution_reason", "Alasan penyelesaian"),
)


@dataclass(frozen=True)
class FlagFilter:
    """Filters of the flag list (None: any)."""

    status: str | None = None
    kind: str | None = None
    family_id: str | None = None
    kecamatan: str | None = None
    kelurahan: str | None = None
