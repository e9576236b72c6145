"""The external list formats (CSV, UTF-8, header row) and their per-row validation.

- death list (Dukcapil): `nik, tanggal_meninggal (YYYY-MM-DD), no_akta_kematian`, optionally `nama`
- excluded-occupation list (BKD, TNI, Polri, ...): `nik, kategori (pns/tni/polri/pejabat/bumn_bumd), instansi`

A NIK that is not 16 digits cannot match anyone and rejects its row; a 16-digit NIK breaking a date rule is still
matched (the registry may hold the same legacy NIK, flagged invalid_nik). A death date in the future is not a
format error: it is checked against the member when matching (a death_record_conflict flag).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from typing import IO

from services.registry.domain.flags import ExcludedOccupation
from services.registry.imports.extract import Chunk, ExtractFormatError, RowError, header_index, parse_date


class ListKind(StrEnum):
    """The external lists the registry imports."""

    DEATH = "death"
    EXCLUDED = "excluded"


COLUMNS: dict[ListKind, tuple[str, ...]] = {
    ListKind.DEATH: ("nik", "tanggal_meninggal", "no_akta_kematian"),
    ListKind.EXCLUDED: ("nik", "kategori", "instansi"),
}
OPTIONAL_COLUMNS: dict[ListKind, tuple[str, ...]] = {ListKind.DEATH: ("nama",), ListKind.EXCLUDED: ()}
DEFAULT_SOURCE: dict[ListKind, str] = {ListKind.DEATH: "dukcapil", ListKind.EXCLUDED: "excluded_list"}
_CATEGORIES = frozenset(c.value for c in ExcludedOccupation)


def list_row(
    kind: ListKind, import_id: str, row_no: int, get: dict[str, str], today: date
) -> tuple[tuple[object, ...] | None, list[RowError]]:
    """A staging record (import_list_row column order) or the row's errors."""
    errors: list[RowError] = []
    nik = get["nik"]
    if len(nik) != 16 or not nik.isascii() or not nik.isdigit():
        errors.append(RowError(row_no, "nik", "nik.not_16_digits", None))
    died: date | None = None
    certificate = category = instansi = name = None
    if kind is ListKind.DEATH:
        died = parse_date(get["tanggal_meninggal"])
        if died is None:
            errors.append(RowError(row_no, "tanggal_meninggal", "tanggal_meninggal.bad_format", None))
        name = get.get("nama") or None
        if name and len(name) > 200:
            errors.append(RowError(row_no, "nama", "nama.too_long", None))
        certificate = get["no_akta_kematian"] or None
        if certificate and len(certificate) > 50:
            errors.append(RowError(row_no, "no_akta_kematian", "no_akta_kematian.too_long", None))
    else:
        category = get["kategori"].lower()
        if category not in _CATEGORIES:
            errors.append(RowError(row_no, "kategori", "kategori.unknown", None))
        instansi = get["instansi"] or None
        if instansi and len(instansi) > 200:
            errors.append(RowError(row_no, "instansi", "instansi.too_long", None))
    if errors:
        return None, errors
    return (import_id, row_no, nik, died, certificate, category, instansi, name, None), []


def read_list_chunks(
    stream: IO[str], kind: ListKind, *, import_id: str, today: date, chunk_rows: int = 10_000
) -> Iterator[Chunk]:
    """Validated chunks of a list file (one chunk in memory at a time)."""
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise ExtractFormatError("the file is empty") from None
    except csv.Error as exc:
        raise ExtractFormatError(f"not a CSV file: {exc}") from None
    idx = header_index(header, COLUMNS[kind])
    names = [h.strip().lower() for h in header]
    idx |= {c: names.index(c) for c in OPTIONAL_COLUMNS[kind] if c in names}
    chunk = Chunk()
    row_no = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error:
            row_no += 1
            chunk.rows += 1
            chunk.errors.append(RowError(row_no, "row", "row.malformed_csv", None))
            continue
        row_no += 1
        if not values:
            continue
        chunk.rows += 1
        try:
            get = {c: values[i].strip() for c, i in idx.items()}
        except IndexError:
            chunk.errors.append(RowError(row_no, "row", "row.column_count", None))
            continue
        record, errors = list_row(kind, import_id, row_no, get, today)
        if record is None:
            chunk.errors.extend(errors)
        else:
            chunk.records.append(record)
        if chunk.rows >= chunk_rows:
            yield chunk
            chunk = Chunk()
    if chunk.rows:
        yield chunk
