"""The shared exporter: CSV and XLSX from an async row iterator, typed cells, header in Bahasa Indonesia, guard."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

import openpyxl

from shared.exports.tabular import Column, csv_chunks, neutralise, xlsx_chunks

COLUMNS = (
    Column("id", "ID baris", "number"),
    Column("note", "Catatan"),
    Column("day", "Tanggal", "date"),
    Column("at", "Diperbarui", "datetime"),
)
ROWS = [
    {"id": 1, "note": '=HYPERLINK("http://x")', "day": date(2026, 3, 5), "at": datetime(2026, 3, 5, 8, tzinfo=UTC)},
    {"id": 2, "note": "+1", "day": None, "at": None},
    {"id": 3, "note": "biasa - aman", "day": date(2026, 1, 1), "at": None},
    {"id": 4, "note": "@SUM(A1)", "day": None, "at": None},
    {"id": 5, "note": "-2", "day": None, "at": None},
]


async def _rows(rows: list[dict[str, Any]]) -> AsyncIterator[Mapping[str, Any]]:
    for row in rows:
        yield row


async def _bytes(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([c async for c in chunks])


def test_neutralise_guards_every_formula_start() -> None:
    assert [neutralise(x) for x in ("=1", "+1", "-1", "@a", "\t=1", "a=1", "")] == [
        "'=1",
        "'+1",
        "'-1",
        "'@a",
        "'\t=1",
        "a=1",
        "",
    ]


async def test_csv_has_the_header_typed_values_and_guarded_text() -> None:
    data = await _bytes(csv_chunks(COLUMNS, _rows(ROWS * 300)))
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["ID baris", "Catatan", "Tanggal", "Diperbarui"]
    assert rows[1] == ["1", '\'=HYPERLINK("http://x")', "2026-03-05", "2026-03-05T08:00:00+00:00"]
    assert [r[1] for r in rows[2:6]] == ["'+1", "biasa - aman", "'@SUM(A1)", "'-2"]
    assert len(rows) == 1 + 1500


async def test_csv_of_no_rows_is_the_header_only() -> None:
    data = await _bytes(csv_chunks(COLUMNS, _rows([])))
    assert data.decode("utf-8-sig") == "ID baris,Catatan,Tanggal,Diperbarui\r\n"


async def test_xlsx_has_typed_cells_a_frozen_header_and_no_formulas() -> None:
    data = await _bytes(xlsx_chunks(COLUMNS, _rows(ROWS), sheet="daftar"))
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws = book["daftar"]
    assert ws.freeze_panes == "A2"
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0] == ["ID baris", "Catatan", "Tanggal", "Diperbarui"]
    assert values[1] == [1, '\'=HYPERLINK("http://x")', datetime(2026, 3, 5), datetime(2026, 3, 5, 8)]
    assert ws["A2"].data_type == "n"
    assert ws["C2"].is_date
    assert all(ws.cell(r, 2).data_type == "s" for r in range(2, 7))
    assert [v[1] for v in values[2:]] == ["'+1", "biasa - aman", "'@SUM(A1)", "'-2"]


NESTED = (Column("kinds", "Jenis"), Column("detail", "Rincian"))
NESTED_ROWS: list[dict[str, Any]] = [
    {"kinds": ["deceased_dukcapil", "duplicate_nik"], "detail": {"n": 2, "by": "=sistem"}},
    {"kinds": [], "detail": None},
    {"kinds": ["=x"], "detail": {}},
]


async def test_lists_and_objects_are_one_text_cell_each_in_both_formats() -> None:
    data = await _bytes(csv_chunks(NESTED, _rows(NESTED_ROWS)))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    want = [
        ["deceased_dukcapil, duplicate_nik", '{"by":"=sistem","n":2}'],
        ["", ""],  # an empty list is an empty cell
        ["'=x", "{}"],  # the guard applies to the joined text
    ]
    assert rows[1:] == want
    book = openpyxl.load_workbook(io.BytesIO(await _bytes(xlsx_chunks(NESTED, _rows(NESTED_ROWS), sheet="t"))))
    values = [[c.value for c in row] for row in book["t"].iter_rows(min_row=2)]
    assert values == [want[0], [None, None], want[2]]
