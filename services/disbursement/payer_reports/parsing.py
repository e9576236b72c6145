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

The ministry status export uses the same columns (source=ministry). Two payer formats are recognised by their
content and read into the same rows (docs/PAYMENT_FILES.md):

- the Pos status CSV (';' separated; Indonesian column names such as id_baris, nominal, tanggal, referensi_pos,
  alasan_gagal; an optional `TOTAL;count;sum` trailer whose totals must match the rows);
- an ISO 20022 pain.002 customer payment status report (any version), one row per TxInfAndSts.
"""

from __future__ import annotations

import csv
import hashlib
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from services.disbursement.payment_files.builders import POS_TRAILER, line_id_of
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


# The Pos profile's column names, as the generic columns they stand for (others, like no_urut, are ignored).
POS_COLUMNS = {
    "id_baris": "line_id",
    "id_keluarga": "household_id",
    "kode_program": "programme_code",
    "nominal": "amount",
    "tanggal": "date",
    "referensi_pos": "reference",
    "alasan_gagal": "failure_reason",
}
# ISO 20022 ExternalPaymentTransactionStatus1Code as the payment line statuses they mean.
PAIN002_STATUS = {
    "ACSC": "paid",
    "ACCC": "paid",
    "ACSP": "at_payer",
    "ACTC": "at_payer",
    "ACCP": "at_payer",
    "ACWC": "at_payer",
    "ACFC": "at_payer",
    "ACIS": "at_payer",
    "PDNG": "at_payer",
    "RJCT": "failed",
}
# ISO 20022 ExternalStatusReason1Code of a rejection as Tepat's failure reasons; any other code of a rejected
# credit transfer is an account problem (the bank could not credit the account it holds for the family).
PAIN002_REASON = {
    "MD07": "deceased_without_heir",
    "BE01": "not_found",
    "BE04": "not_found",
    "BE05": "not_found",
    "RC07": "not_found",
    "RR01": "not_found",
    "RR02": "not_found",
    "RR03": "not_found",
}


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
    """Staging records and row errors, one per data row (or pain.002 transaction), streamed."""
    stream.seek(0)
    start = stream.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    stream.seek(0)
    if start.startswith(b"<"):
        yield from _read_pain002(stream, report_id)
        return
    first_line = start.split(b"\n", 1)[0]
    delimiter = ";" if first_line.count(b";") > first_line.count(b",") else ","
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="", errors="replace")
    try:
        reader = csv.reader(text, delimiter=delimiter)
        header = [f.strip().lower() for f in next(reader, [])]
        header = [POS_COLUMNS.get(f, f) for f in header]
        if "status" not in header:
            yield RowError(1, None, "invalid_header", "the header row must name at least status and line_id")
            return
        n = 1
        count = total = 0
        for values in reader:
            if not values:
                continue  # a blank line is no row (as csv.DictReader counts them)
            n += 1
            if values[0].strip().upper() == POS_TRAILER:
                if error := _trailer_error(n, values, count, total):
                    yield error
                continue
            item = _parse(dict(zip(header, [v.strip() for v in values], strict=False)), n, report_id)
            count += 1
            if not isinstance(item, RowError) and item[7] is not None:
                total += item[7]
            yield item
    finally:
        text.detach()


def _trailer_error(row_no: int, values: list[str], count: int, total: int) -> RowError | None:
    # The control trailer guards against a truncated or edited file: its totals must be those of the rows above.
    said = [v.strip() for v in values[1:3]]
    if said == [str(count), str(total)]:
        return None
    return RowError(
        row_no, None, "control_total_mismatch", f"trailer says {said}, the rows are count {count}, sum {total}"
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(element: ET.Element, *path: str) -> str:
    # Namespace-agnostic: any pain.002 version is read by its element names.
    node: ET.Element | None = element
    for name in path:
        node = next((c for c in node if _local(c.tag) == name), None) if node is not None else None
    return (node.text or "").strip() if node is not None else ""


def _whole_rupiah(text: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    return str(int(value)) if value == value.to_integral_value() and value >= 0 else text


def _read_pain002(stream: IO[bytes], report_id: str) -> Iterator[tuple[Any, ...] | RowError]:
    # Streamed: each transaction status is dropped once read. Expat resolves no external entities.
    report_day = ""
    n = 0
    try:
        for _, element in ET.iterparse(stream, events=("end",)):
            name = _local(element.tag)
            if name == "GrpHdr":
                report_day = _find(element, "CreDtTm")[:10]
            elif name == "TxInfAndSts":
                n += 1
                code = _find(element, "TxSts").upper()
                status = PAIN002_STATUS.get(code, code.lower())
                reason = _find(element, "StsRsnInf", "Rsn", "Cd").upper()
                row = {
                    "line_id": line_id_of(end_to_end := _find(element, "OrgnlEndToEndId")) or end_to_end or "?",
                    "status": status,
                    "amount": _whole_rupiah(_find(element, "OrgnlTxRef", "Amt", "InstdAmt")),
                    "date": (_find(element, "AccptncDtTm") or report_day)[:10],
                    "reference": _find(element, "AcctSvcrRef") or _find(element, "StsId"),
                    "failure_reason": PAIN002_REASON.get(reason, "account_problem") if status == "failed" else "",
                }
                yield _parse(row, n, report_id)
                element.clear()
    except ET.ParseError as exc:
        yield RowError(n + 1, None, "invalid_xml", str(exc)[:200])
