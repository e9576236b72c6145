"""CSV and XLSX writers over an async row iterator: Bahasa Indonesia header, typed cells, formula-injection guard.

Memory stays flat whatever the row count: CSV is yielded row by row; XLSX is written by XlsxWriter in
constant-memory mode (each row flushed to a temporary file) into a spooled file, then yielded in chunks.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

import xlsxwriter

Kind = Literal["text", "number", "date", "datetime", "boolean"]
# A spreadsheet reads a cell starting with one of these as a formula (OWASP CSV injection); tab and CR too.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_BATCH = 500
SPOOL = 8 << 20
CHUNK = 1 << 16
XLSX_MAX_TEXT = 32_767


@dataclass(frozen=True)
class Column:
    """One exported column: the row's key, its header in Bahasa Indonesia, and the cell type."""

    key: str
    label: str
    kind: Kind = "text"


def _utc(moment: datetime) -> datetime:
    # Tepat stores UTC; SQLite hands timestamps back without their zone.
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def neutralise(text: str) -> str:
    """A text cell a spreadsheet will show as text, never run as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def as_text(value: Any) -> str:
    """A value in one text cell: a list as its items joined by ", ", an object as compact JSON."""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return str(value)


def _csv_value(value: Any, kind: Kind) -> str:
    if value is None:
        return ""
    if kind == "datetime" and isinstance(value, datetime):
        return _utc(value).isoformat()
    if kind == "boolean" and isinstance(value, bool):
        return "ya" if value else "tidak"
    if kind in ("number", "date", "datetime"):
        return str(value.isoformat() if isinstance(value, date) else value)
    return neutralise(as_text(value))


async def csv_chunks(columns: Sequence[Column], rows: AsyncIterable[Mapping[str, Any]]) -> AsyncIterator[bytes]:
    """UTF-8 CSV (with BOM, so spreadsheets read it as UTF-8), comma separated, header row first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.label for c in columns])
    yield ("\ufeff" + buffer.getvalue()).encode()
    n = 0
    async for row in rows:
        if n == 0:
            buffer.seek(0)
            buffer.truncate()
        writer.writerow([_csv_value(row.get(c.key), c.kind) for c in columns])
        n += 1
        if n == CSV_BATCH:
            yield buffer.getvalue().encode()
            n = 0
    if n:
        yield buffer.getvalue().encode()


async def xlsx_chunks(
    columns: Sequence[Column], rows: AsyncIterable[Mapping[str, Any]], *, sheet: str
) -> AsyncIterator[bytes]:
    """One worksheet: bold frozen header, numbers as numbers, dates as dates, text guarded against formulas."""
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115  (closed below)
    try:
        book = xlsxwriter.Workbook(out, {"constant_memory": True, "remove_timezone": True})
        ws = book.add_worksheet(sheet[:31])
        bold = book.add_format({"bold": True})
        formats = {
            "date": book.add_format({"num_format": "yyyy-mm-dd"}),
            "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        }
        for i, column in enumerate(columns):
            ws.write_string(0, i, column.label, bold)
            ws.set_column(i, i, max(12, len(column.label) + 2))
        ws.freeze_panes(1, 0)
        r = 0
        async for row in rows:
            r += 1
            for i, column in enumerate(columns):
                _write_cell(ws, r, i, row.get(column.key), column.kind, formats)
        book.close()
        out.seek(0)
        while chunk := out.read(CHUNK):
            yield chunk
    finally:
        out.close()


def _write_cell(ws: Any, r: int, i: int, value: Any, kind: Kind, formats: dict[str, Any]) -> None:
    if value is None:
        return
    if kind == "number" and isinstance(value, int | float):
        ws.write_number(r, i, value)
    elif kind == "boolean" and isinstance(value, bool):
        ws.write_boolean(r, i, value)
    elif kind == "datetime" and isinstance(value, datetime):
        ws.write_datetime(r, i, _utc(value), formats["datetime"])
    elif kind == "date" and isinstance(value, date):
        ws.write_datetime(r, i, value, formats["date"])
    else:
        text = as_text(value)
        if text:  # an empty list is a blank cell, as in the CSV
            # write_string, never write(): XlsxWriter would otherwise turn '=…' into a formula by itself.
            ws.write_string(r, i, neutralise(text)[:XLSX_MAX_TEXT])
