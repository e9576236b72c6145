"""Validation of extract and list rows with the domain rules (no database)."""

from __future__ import annotations

import csv
import io
import random
from datetime import date
from pathlib import Path

import pytest

from services.registry.domain.identifiers import IdentifierError, validate_nik, validate_no_kk
from services.registry.imports.events import years_before
from services.registry.imports.extract import (
    COLUMNS,
    ExtractFormatError,
    RowError,
    RowValidator,
    open_extract,
    parse_bool,
    parse_date,
    read_chunks,
)
from services.registry.imports.list_parsing import ListKind, read_list_chunks
from services.registry.imports.pipeline import encode_records, part_chunks

TODAY = date(2026, 11, 28)
GOOD = {
    "no_kk": "1371010101150001",
    "kelurahan_code": "13.71.01.1001",
    "alamat": "Jl. Nipah No. 7",
    "rt": "2",
    "rw": "05",
    "nik": "1371015505850002",
    "nama": "Sari",
    "tempat_lahir": "Padang",
    "tanggal_lahir": "",
    "jenis_kelamin": "",
    "hubungan": "kepala_keluarga",
    "status_kawin": "kawin",
    "pendidikan": "SMA",
    "status_sekolah": "none",
    "pekerjaan": "Pedagang",
    "disabilitas": "none",
    "hamil": "ya",
    "desil": "3",
    "periode_desil": "2026-Q1",
}


def _read(*rows: dict[str, str]) -> tuple[list[tuple[object, ...]], list[tuple[int, str, str]]]:
    lines = [",".join(COLUMNS)] + [",".join(r[c] for c in COLUMNS) for r in rows]
    records, errors = [], []
    for chunk in read_chunks(io.StringIO("\n".join(lines) + "\n"), import_id="j", today=TODAY, chunk_rows=2):
        records += chunk.records
        errors += [(e.row_no, e.field, e.reason) for e in chunk.errors]
    return records, errors


def test_good_row_becomes_a_staging_record_with_defaults_from_the_nik() -> None:
    records, errors = _read(GOOD)
    assert errors == []
    (rec,) = records
    assert rec[:9] == ("j", 2, GOOD["no_kk"], "13.71.01.1001", "13.71.01", "Jl. Nipah No. 7", "002", "005", GOOD["nik"])
    assert rec[9] is None  # nik_issue
    assert rec[12:14] == (date(1985, 5, 15), "P")  # birth date and sex from the NIK
    assert rec[20:] == (True, 3, "2026-Q1")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"nik": "137101550585000"}, [("nik", "nik.not_16_digits")]),
        ({"no_kk": "1371013201150001"}, [("no_kk", "no_kk.bad_day")]),
        ({"rt": "0", "rw": "abc"}, [("rt", "rt.invalid"), ("rw", "rw.invalid")]),
        ({"kelurahan_code": "13.71.01.1999"}, [("kelurahan_code", "wilayah.unknown_kelurahan")]),
        ({"kelurahan_code": "13-71"}, [("kelurahan_code", "wilayah.bad_format")]),
        ({"alamat": ""}, [("alamat", "alamat.required")]),
        ({"nama": ""}, [("nama", "nama.required")]),
        ({"tanggal_lahir": "15-05-1985"}, [("tanggal_lahir", "tanggal_lahir.bad_format")]),
        ({"tanggal_lahir": "2030-01-01"}, [("tanggal_lahir", "birth_date.future")]),
        ({"jenis_kelamin": "X"}, [("jenis_kelamin", "jenis_kelamin.invalid")]),
        ({"hubungan": "kepala"}, [("hubungan", "hubungan.unknown")]),
        ({"status_kawin": "janda"}, [("status_kawin", "status_kawin.unknown")]),
        ({"status_sekolah": "tk"}, [("status_sekolah", "status_sekolah.unknown")]),
        ({"disabilitas": "berat"}, [("disabilitas", "disabilitas.unknown")]),
        ({"hamil": "mungkin"}, [("hamil", "hamil.invalid")]),
        ({"desil": "0"}, [("desil", "desil.out_of_range")]),
        ({"desil": "11"}, [("desil", "desil.out_of_range")]),
        ({"periode_desil": "2026-1"}, [("periode_desil", "periode_desil.bad_format")]),
        ({"periode_desil": ""}, [("periode_desil", "periode_desil.required")]),
        ({"desil": ""}, [("desil", "desil.required")]),
    ],
)
def test_bad_rows_are_reported_by_field_and_rule(changes: dict[str, str], expected: list[tuple[str, str]]) -> None:
    records, errors = _read({**GOOD, **changes})
    assert records == []
    assert errors == [(2, f, r) for f, r in expected]


def test_a_nik_breaking_a_date_rule_is_kept_with_its_issue() -> None:
    records, errors = _read({**GOOD, "nik": "1371015513850002"})
    assert errors == []
    assert records[0][9] == "nik.bad_month"
    assert records[0][12:14] == (None, None)


def test_header_must_name_every_column() -> None:
    with pytest.raises(ExtractFormatError, match="missing column"):
        list(read_chunks(io.StringIO("no_kk,nik\n1,2\n"), import_id="j", today=TODAY))
    with pytest.raises(ExtractFormatError, match="empty"):
        list(read_chunks(io.StringIO(""), import_id="j", today=TODAY))


def test_short_row_and_blank_lines() -> None:
    text = ",".join(COLUMNS) + "\n\n1371010101150001,13.71.01.1001\n"
    (chunk,) = read_chunks(io.StringIO(text), import_id="j", today=TODAY)
    assert [(e.row_no, e.field, e.reason) for e in chunk.errors] == [(3, "row", "row.column_count")]


def test_small_parsers() -> None:
    assert parse_date("2026-02-29") is None
    assert parse_date("20260101") is None
    assert parse_date("2026-01-31") == date(2026, 1, 31)
    assert (parse_bool("Ya"), parse_bool("0"), parse_bool("")) == (True, False, None)
    assert years_before(date(2024, 2, 29), 70) == date(1954, 2, 28)
    assert years_before(date(2026, 11, 28), 7) == date(2019, 11, 28)


def test_list_rows() -> None:
    text = "nik,kategori,instansi\n1371015505850002,PNS,Pemkot\n1371015505850002,guru,SD\n"
    (chunk,) = read_list_chunks(io.StringIO(text), ListKind.EXCLUDED, import_id="j", today=TODAY)
    assert chunk.records == [("j", 2, "1371015505850002", None, None, "pns", "Pemkot", None, None)]
    assert [(e.row_no, e.reason) for e in chunk.errors] == [(3, "kategori.unknown")]


def test_death_list_rows_take_an_optional_name_and_keep_a_future_date_for_matching() -> None:
    text = "nik,tanggal_meninggal,no_akta_kematian,nama\n1371015505850002,2999-01-01,A1, Hj. Rosmaniar \n"
    (chunk,) = read_list_chunks(io.StringIO(text), ListKind.DEATH, import_id="j", today=TODAY)
    assert chunk.records == [("j", 2, "1371015505850002", date(2999, 1, 1), "A1", None, None, "Hj. Rosmaniar", None)]
    assert chunk.errors == []
    plain = "nik,tanggal_meninggal,no_akta_kematian\n1371015505850002,2025-01-01,\n"
    (chunk,) = read_list_chunks(io.StringIO(plain), ListKind.DEATH, import_id="j", today=TODAY)
    assert chunk.records == [("j", 2, "1371015505850002", date(2025, 1, 1), None, None, None, None, None)]


def test_remembered_nik_checks_give_the_verdict_of_validate_nik() -> None:
    """The validator caches NIK region and date parts; every NIK still gets exactly validate_nik's verdict."""
    validator = RowValidator("job", TODAY)
    rng = random.Random(11)
    regions = ["137101", "137102", "137199", "137100", "130000", "990101", "110101", "320101", "000000"]
    verdicts: set[str | None] = set()
    for i in range(20_000):
        nik = (
            rng.choice(regions)
            + f"{rng.randint(0, 72):02d}{rng.randint(0, 13):02d}{rng.randint(0, 99):02d}"
            + rng.choice(["0000", "0001", "1234"])
        )
        if i % 500 == 0:
            nik = nik[:15] + rng.choice(["", "x", "٣"])
        try:
            info = validate_nik(nik, today=TODAY)
            expected: tuple[str | None, date | None, str | None] = (None, info.birth_date, info.sex)
        except IdentifierError as exc:
            expected = (exc.field_reason, None, None)
        assert validator._check_nik(nik) == expected, nik
        verdicts.add(expected[0])
    # The sample exercises every rule, so the comparison above covers each cached path.
    assert {None, "nik.not_16_digits", "nik.bad_region", "nik.bad_province", "nik.bad_day", "nik.bad_month"} <= verdicts
    assert {"nik.serial_zero", "nik.future_birth_date", "nik.bad_date"} <= verdicts


def test_staging_csv_reads_back_as_the_records_with_none_as_empty() -> None:
    rng = random.Random(5)
    pieces = ["Jl. Nipah", ",", '"', "\n", "\r\n", " No. 7", "Uda", "é"]

    def text() -> str:
        return "".join(rng.choice(pieces) for _ in range(rng.randint(1, 5)))

    records = []
    for i in range(300):
        records.append(
            (
                "job",
                i + 2,
                "1371010101150001",
                "13.71.01.1001",
                "13.71.01",
                text(),
                "002",
                "005",
                "1371015505850002",
                rng.choice([None, "nik.bad_month"]),
                text(),
                rng.choice([None, text()]),
                rng.choice([None, date(1985, 5, 15)]),
                rng.choice([None, "L", "P"]),
                "anak",
                rng.choice([None, "kawin"]),
                rng.choice([None, text()]),
                rng.choice([None, "sd"]),
                rng.choice([None, text()]),
                rng.choice([None, "none"]),
                rng.choice([None, True, False]),
                rng.choice([None, 1, 10]),
                rng.choice([None, "2026-Q1"]),
            )
        )
    expected = [
        ["" if v is None else {True: "t", False: "f"}.get(v, str(v)) if isinstance(v, bool) else str(v) for v in r]
        for r in records
    ]
    assert list(csv.reader(io.StringIO(encode_records(records).decode(), newline=""))) == expected
    # Both ways of writing a row were exercised.
    assert any('"' in line for line in encode_records(records).decode().splitlines())
    assert any(",," in line for line in encode_records(records).decode().splitlines())


def test_validation_never_stages_an_empty_string() -> None:
    # The staging CSV writes None as an empty field (NULL for COPY): an empty string would turn into NULL too.
    text = "\n".join(
        [
            ",".join(COLUMNS),
            "1371010101150001,13.71.01.1001,Jl. A,1,2,1371011505800001,Budi,,,,kepala_keluarga,,,,,,,,",
        ]
    )
    (chunk,) = read_chunks(io.StringIO(text + "\n"), import_id="j", today=TODAY)
    assert chunk.errors == []
    (record,) = chunk.records
    assert "" not in record


def test_remembered_no_kk_checks_give_the_verdict_of_validate_no_kk() -> None:
    """The same part-by-part caching for the No. KK: every value gets exactly validate_no_kk's verdict."""
    validator = RowValidator("job", TODAY)
    rng = random.Random(12)
    regions = ["137101", "137102", "137199", "137100", "130000", "990101", "110101", "000000"]
    verdicts: set[str | None] = set()
    for i in range(20_000):
        no_kk = (
            rng.choice(regions)
            + f"{rng.randint(0, 33):02d}{rng.randint(0, 13):02d}{rng.randint(0, 99):02d}"
            + rng.choice(["0000", "0001", "1234"])
        )
        if i % 500 == 0:
            no_kk = no_kk[:15] + rng.choice(["", "x", "٣"])
        try:
            validate_no_kk(no_kk, today=TODAY)
            expected: str | None = None
        except IdentifierError as exc:
            expected = exc.field_reason
        assert validator._check_kk(no_kk) == expected, no_kk
        verdicts.add(expected)
    assert {None, "no_kk.not_16_digits", "no_kk.bad_region", "no_kk.bad_province", "no_kk.bad_day"} <= verdicts
    assert {"no_kk.bad_month", "no_kk.serial_zero", "no_kk.future_issue_date", "no_kk.bad_date"} <= verdicts


def _family_rows(count: int) -> list[str]:
    rows = []
    for i in range(count):
        good = {**GOOD, "no_kk": f"1371010101150{i + 1:03d}", "nik": f"1371015505850{i + 1:03d}"}
        rows.append(",".join(good[c] for c in COLUMNS))
    return rows


def _shares(path: Path, parts: int, block_bytes: int) -> list[tuple[list[tuple[object, ...]], list[RowError], int]]:
    out = []
    for part in range(parts):
        records: list[tuple[object, ...]] = []
        errors: list[RowError] = []
        counted = 0
        for chunk in part_chunks(path, import_id="j", today=TODAY, part=part, parts=parts, block_bytes=block_bytes):
            records += chunk.records
            errors += chunk.errors
            counted += chunk.rows
        out.append((records, errors, counted))
    return out


def _defective_rows() -> list[str]:
    rows = [",".join(COLUMNS), *_family_rows(40)]
    rows[5] = rows[5].replace("kepala_keluarga", "raja")  # a row error
    rows[9] = rows[9].replace("Sari", "x" * 200_000)  # beyond the csv module's field limit: a malformed row
    rows[12] = ""  # a blank line: numbered, not a row
    rows[20] = rows[20].replace("Pedagang", "Peda\x00gang")  # a NUL byte: refused (PostgreSQL text cannot hold it)
    rows[33] = rows[33].replace("Pedagang", "Peda\x00gang")  # another, after the hand-over below
    return rows


def _plain_file() -> str:
    return "\n".join(_defective_rows()) + "\n"


def _quoted_later() -> str:
    rows = _defective_rows()
    rows[25] = rows[25].replace("Jl. Nipah No. 7", '"Jl. Nipah\nNo. 7, ""Blok A"""')  # a line break in a field
    rows[30] = rows[30].replace("Sari", "Sa\rri")  # a lone CR ends a record for the csv module
    return "\r\n".join(rows)  # CRLF, and no line break after the last row


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(_plain_file(), id="plain"),
        pytest.param(_quoted_later(), id="quotes-and-lone-cr-mid-file"),
        pytest.param("\ufeff" + _plain_file(), id="bom"),
        pytest.param(_plain_file().replace("Padang", 'Pad"ang', 1), id="quote-in-the-first-rows"),
    ],
)
@pytest.mark.parametrize(("parts", "block_bytes"), [(2, 1024), (3, 700), (2, 1 << 20)])
def test_workers_given_parts_of_a_file_share_its_rows_exactly(
    tmp_path: Path, text: str, parts: int, block_bytes: int
) -> None:
    path = tmp_path / "extract.csv"
    path.write_bytes(text.encode())
    with open_extract(path) as fh:
        whole_records: list[tuple[object, ...]] = []
        whole_errors: list[RowError] = []
        whole_rows = 0
        for chunk in read_chunks(fh, import_id="j", today=TODAY):
            whole_records += chunk.records
            whole_errors += chunk.errors
            whole_rows += chunk.rows
    shares = _shares(path, parts, block_bytes)
    assert sorted(r for share in shares for r in share[0]) == sorted(whole_records)
    assert sorted(e for share in shares for e in share[1]) == sorted(whole_errors)
    assert sum(share[2] for share in shares) == whole_rows
    assert {"row.malformed_csv", "row.nul_byte", "hubungan.unknown"} <= {e.reason for e in whole_errors}
    assert len(whole_records) > 30
    if block_bytes < len(text) // parts and '"' not in text and "\r" not in text:
        assert all(share[0] for share in shares)  # each worker got some of the work (blocks, not 10,000 rows)


def test_a_file_without_rows_or_columns_is_unreadable_for_the_workers(tmp_path: Path) -> None:
    path = tmp_path / "extract.csv"
    for content, message in ((b"", "empty"), (b"no_kk,nik\n1,2\n", "missing column")):
        path.write_bytes(content)
        with pytest.raises(ExtractFormatError, match=message):
            list(part_chunks(path, import_id="j", today=TODAY, part=0, parts=2))


def test_a_row_with_more_fields_than_the_header_is_a_row_error_with_its_raw_values(tmp_path: Path) -> None:
    header = ",".join(COLUMNS) + ",catatan"  # an extra column in the header is fine
    good = ",".join(GOOD[c] for c in COLUMNS)
    text = f"{header}\n{good},ok\n{good},ok,glued\n"
    (chunk,) = read_chunks(io.StringIO(text), import_id="j", today=TODAY)
    assert len(chunk.records) == 1
    assert [(e.row_no, e.field, e.reason) for e in chunk.errors] == [(3, "row", "row.too_many_fields")]
    (bad,) = chunk.bad_rows
    assert (bad.row_no, bad.no_kk, bad.nik, bad.kelurahan_code) == (3, GOOD["no_kk"], GOOD["nik"], "13.71.01.1001")
    assert bad.raw["nama"] == "Sari"
    assert bad.raw["extra_fields"] == ["glued"]
    # The workers (PostgreSQL) decide the same.
    path = tmp_path / "x.csv"
    path.write_text(text)
    (worker,) = part_chunks(path, import_id="j", today=TODAY, part=0, parts=1)
    assert [(e.row_no, e.reason) for e in worker.errors] == [(3, "row.too_many_fields")]
    assert worker.bad_rows == chunk.bad_rows
