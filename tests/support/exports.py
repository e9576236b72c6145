"""Reading CSV and XLSX exports back, and the JSON list's rows as the cells an export must hold."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import openpyxl

from shared.exports.tabular import Column


def typed(value: Any, kind: str) -> Any:
    """A JSON (or CSV) value as the type the export writes it as."""
    if value in (None, ""):
        return None
    if kind == "number":
        return float(value) if isinstance(value, float) or (isinstance(value, str) and "." in value) else int(value)
    if kind == "boolean":
        return value if isinstance(value, bool) else {"ya": True, "tidak": False}[value]
    if kind == "date":
        return date.fromisoformat(value) if isinstance(value, str) else value
    if kind == "datetime":
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return (moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)).replace(tzinfo=None)
    if isinstance(value, list):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    else:
        text = str(value)
    # A text a spreadsheet would run as a formula is written with a leading apostrophe.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text or None


def expected(json_rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> list[list[Any]]:
    """The JSON list's rows as export cells, column by column."""
    return [[typed(row[c.key], c.kind) for c in columns] for row in json_rows]


def same_sheet(sheet: list[list[Any]], want: list[list[Any]]) -> bool:
    """Equal cell for cell; a spreadsheet keeps time to the millisecond, so timestamps agree within one."""

    def close(a: Any, b: Any) -> bool:
        if isinstance(a, datetime) and isinstance(b, datetime):
            return abs(a - b) <= timedelta(milliseconds=1)
        return bool(a == b)

    return len(sheet) == len(want) and all(
        len(r) == len(e) and all(close(a, b) for a, b in zip(r, e, strict=True))
        for r, e in zip(sheet, want, strict=True)
    )


def read_csv(content: bytes, columns: Sequence[Column]) -> list[list[Any]]:
    """The rows of a CSV export (UTF-8 with BOM, Indonesian header checked), typed like the columns."""
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == [col.label for col in columns]
    return [[typed(v, col.kind) for v, col in zip(r, columns, strict=True)] for r in rows[1:]]


def read_xlsx(content: bytes, columns: Sequence[Column]) -> list[list[Any]]:
    """The rows of an XLSX export read back with openpyxl (frozen Indonesian header checked)."""
    ws = openpyxl.load_workbook(io.BytesIO(content)).active
    assert ws is not None
    assert ws.freeze_panes == "A2"
    sheet = [[cell.value for cell in r] for r in ws.iter_rows()]
    assert sheet[0] == [col.label for col in columns]
    return [[v.date() if col.kind == "date" and v else v for v, col in zip(r, columns, strict=True)] for r in sheet[1:]]
