"""Bodies of the disbursement reports."""

from __future__ import annotations

from pydantic import BaseModel

from shared.http.params import PathText


class KecamatanReport(BaseModel):
    """One kecamatan of a tahap."""

    kecamatan_code: str
    families_listed: int
    amount_planned: int
    families_paid: int
    amount_paid: int
    paid_pct: float
    on_hold: int
    failures_by_reason: dict[str, int]
    breaks_open: int


class TahapReport(BaseModel):
    """A tahap per kecamatan, in the caller's scope."""

    tahap_id: PathText
    programme_code: str
    label: str
    kecamatan: list[KecamatanReport]
