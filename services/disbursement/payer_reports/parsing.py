"""Reading payer status files row by row (never the whole file in memory).

Columns (CSV, UTF-8, header row, comma separated; names case-insensitive):

| column | required | meaning |
|---|---|---|
| line_id | line_id, or the three next | Tepat's payment line id (as sent to the payer) |
| programme_code, tahap_id, household_id | when no line_id | the line's natural identity |
| status | yes | spm, sp2d, at_payer, paid, failed, returned (also tersalur, gagal, retur) |
| amount | for at_payer, paid, failed, returned | rupiah, digits only |
| date | no | YYYY-MM-DD, the day of the status (paid on, returned on) |
| reference | no | the payer's transaction reference; part of the row's natural key |
| failure_reason | for failed | account_problem, not_found, deceased_without_heir, not_collected |

The ministry status export uses the same columns (source=ministry).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from shared.events.payment import PaymentFailureReason

CHUNK = 1 << 20
STATUS_WORDS = {
    "spm": "spm",
    "sp2d": "sp2d",
    "at_payer": "at_payer",
    "at_bank": "at_payer",
    "di_bank": "at_payer",
    "undangan": "at_payer",
    "paid": "paid",
    "tersalur": "paid",
    "failed": "failed",
    "gagal": "failed",
    "returned": "returned",
    "retur": "returned",
}
AMOUNT_REQUIRED = {"at_payer", "paid", "failed", "returned"}
FAILURE_REASONS = {r.value for r in PaymentFailureReason}
COLUMNS = (
    "line_id",
    "programme_code",
    "tahap_id",
    "household_id",
    "status",
    "amount",
    "date",
    "reference",
    "failure_reason",
)


@dataclass(frozen=True)
class RowError:
    """A row that could not even be staged."""

    row_no: int
    line_key: str | None
    reason: str
    detail: str


def file_sha256(stream: IO[bytes]) -> str:
    """sha256 of the whole stream, read in chunks; leaves the stream at its start."""
    digest = hashlib.sha256()
    stream.seek(0)
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def _key(line_id: int | None, programme: str, tahap: str, household: str) -> str:
    return f"L:{line_id}" if line_id is not None else f"K:{programme}|{tahap}|{household}"


def parse_row(row_no: int, raw: dict[str, str], report_id: str) -> tuple[Any, ...] | RowError:
    """One CSV row as a staging record (tuple in staging column order) or the reason it is unusable."""
    return _parse({k.strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}, row_no, report_id)


def _parse(get: dict[str, str], row_no: int, report_id: str) -> tuple[Any, ...] | RowError:
    # `get`: the row's values by lower-case column name, stripped.
    line_text, programme, tahap, household = (get.get(c, "") for c in COLUMNS[:4])
    line_id: int | None = None
    if line_text:
        if not line_text.isdigit() or len(line_text) > 18:
            return RowError(row_no, None, "invalid_line_id", f"line_id {line_text[:40]!r} is not a number")
        line_id = int(line_text)
    elif not (programme and tahap and household):
        return RowError(row_no, None, "missing_identity", "give line_id or programme_code, tahap_id, household_id")
    if len(programme) > 30 or len(tahap) > 36 or len(household) > 100:
        return RowError(row_no, None, "invalid_identity", "programme_code, tahap_id or household_id too long")
    key = _key(line_id, programme, tahap, household)
    status = STATUS_WORDS.get(get.get("status", "").lower())
    if status is None:
        return RowError(row_no, key, "invalid_status", f"unknown status {get.get('status', '')[:40]!r}")
    amount_text = get.get("amount", "")
    amount: int | None = None
    if amount_text:
        if not amount_text.isdigit() or len(amount_text) > 15:
            return RowError(row_no, key, "invalid_amount", f"amount {amount_text[:40]!r} is not whole rupiah")
        amount = int(amount_text)
    elif status in AMOUNT_REQUIRED:
        return RowError(row_no, key, "missing_amount", f"status {status} needs an amount")
    day: date | None = None
    if get.get("date"):
        try:
            day = date.fromisoformat(get["date"])
        except ValueError:
            return RowError(row_no, key, "invalid_date", f"date {get['date'][:40]!r} is not YYYY-MM-DD")
    reason = get.get("failure_reason", "").lower() or None
    if status == "failed" and reason not in FAILURE_REASONS:
        return RowError(row_no, key, "invalid_failure_reason", f"failed needs one of {sorted(FAILURE_REASONS)}")
    if status != "failed":
        reason = None
    reference = get.get("reference", "")[:100]
    return (
        report_id,
        row_no,
        line_id,
        programme or None,
        tahap or None,
        household or None,
        status,
        amount,
        day,
        reference,
        reason,
        key,
        None,
        None,
    )


STAGING_COLUMNS = [
    "report_id",
    "row_no",
    "line_id",
    "programme_code",
    "tahap_id",
    "household_id",
    "status",
    "amount",
    "event_date",
    "reference",
    "failure_reason",
    "line_key",
    "outcome",
    "error",
]


def read_rows(stream: IO[bytes], report_id: str) -> Iterator[tuple[Any, ...] | RowError]:
    """Staging records and row errors, one per data row, streamed."""
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="", errors="replace")
    try:
        reader = csv.reader(text)
        header = [f.strip().lower() for f in next(reader, [])]
        if "status" not in header:
            yield RowError(1, None, "invalid_header", "the header row must name at least status and line_id")
            return
        n = 1
        for values in reader:
            if not values:
                continue  # a blank line is no row (as csv.DictReader counts them)
            n += 1
            yield _parse(dict(zip(header, [v.strip() for v in values], strict=False)), n, report_id)
    finally:
        text.detach()
