"""The national extract format (CSV) and its per-row validation with the domain rules.

CSV, UTF-8 (a BOM is tolerated), comma separated, a header row naming the columns (any order, extra columns
ignored), one row per member with the family columns repeated on every row of the family:

| column | value |
|---|---|
| no_kk | No. KK, 16 digits (DOMAIN §6) |
| kelurahan_code | Kemendagri code of a Padang kelurahan, e.g. 13.71.01.1001 |
| alamat | street address, 1-300 characters |
| rt, rw | 1-3 digits, 1-999 (stored as 3 digits: 7 → 007) |
| nik | 16 digits (else the row is rejected); one breaking a date/region/serial rule is kept, flagged invalid_nik |
| nama | 1-200 characters |
| tempat_lahir | optional, up to 100 characters |
| tanggal_lahir | optional, YYYY-MM-DD, not in the future (default: the date in the NIK) |
| jenis_kelamin | L / P, optional (default: from the NIK) |
| hubungan | kepala_keluarga, suami, istri, anak, menantu, cucu, orang_tua, mertua, famili_lain, pembantu, lainnya |
| status_kawin | optional: belum_kawin, kawin, cerai_hidup, cerai_mati |
| pendidikan | optional, up to 30 characters (free text, e.g. SMA) |
| status_sekolah | optional: none, sd, smp, sma, college |
| pekerjaan | optional, up to 100 characters |
| disabilitas | optional: none, mild, moderate, severe |
| hamil | optional: ya / tidak (also 1/0, true/false, y/n) |
| desil | optional, 1-10; with periode_desil |
| periode_desil | e.g. 2026-Q1; required when desil is given |

Row numbers in the error report count the header as row 1 (as a spreadsheet shows them).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, NamedTuple

from services.registry.desil.rules import valid_period
from services.registry.domain.identifiers import (
    IdentifierError,
    kecamatan_of,
    parse_wilayah_code,
    validate_nik,
    validate_no_kk,
    validate_rt_rw,
)
from services.registry.domain.wilayah import WilayahReference, default_wilayah
from services.registry.families.rules import Disability, SchoolStatus
from services.registry.families.schemas import MaritalStatus, Relationship

COLUMNS = (
    "no_kk",
    "kelurahan_code",
    "alamat",
    "rt",
    "rw",
    "nik",
    "nama",
    "tempat_lahir",
    "tanggal_lahir",
    "jenis_kelamin",
    "hubungan",
    "status_kawin",
    "pendidikan",
    "status_sekolah",
    "pekerjaan",
    "disabilitas",
    "hamil",
    "desil",
    "periode_desil",
)
HEAD = Relationship.KEPALA_KELUARGA.value
# The family columns: every row of one No. KK must agree on them.
FAMILY_COLUMNS = ("kelurahan_code", "alamat", "rt", "rw", "desil", "periode_desil")

_RELATIONSHIPS = frozenset(r.value for r in Relationship)
_MARITAL = frozenset(m.value for m in MaritalStatus)
_SCHOOL = frozenset(s.value for s in SchoolStatus)
_DISABILITY = frozenset(d.value for d in Disability)
_BOOLS: dict[str, bool | None] = {
    "": None,
    **dict.fromkeys(("ya", "y", "1", "true"), True),
    **dict.fromkeys(("tidak", "t", "n", "0", "false"), False),
}


class ExtractFormatError(ValueError):
    """The file cannot be read as an extract at all (e.g. a missing column): the job fails."""


class RowError(NamedTuple):
    """One problem of one row: what the error report shows (plus the No. KK, to reject the family)."""

    row_no: int
    field: str
    reason: str
    no_kk: str | None


class BadRow(NamedTuple):
    """A row kept out of the member table, on its way to the correction queue: its raw values by column."""

    row_no: int
    no_kk: str | None
    nik: str | None
    relationship: str | None
    kelurahan_code: str | None
    raw: dict[str, Any]


@dataclass
class Chunk:
    """A batch of rows: good ones as staging records, bad ones as errors (and their raw values)."""

    records: list[tuple[Any, ...]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)


def header_index(header: list[str], columns: tuple[str, ...]) -> dict[str, int]:
    """Column → position; ExtractFormatError naming the missing columns."""
    names = [h.strip().lower() for h in header]
    missing = [c for c in columns if c not in names]
    if missing:
        raise ExtractFormatError(f"missing column(s): {', '.join(missing)}; expected {', '.join(columns)}")
    return {c: names.index(c) for c in columns}


def parse_date(value: str) -> date | None:
    """A strict YYYY-MM-DD date, or None."""
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_bool(value: str) -> bool | None:
    """ya/tidak (and 1/0, true/false, y/n) → bool; '' → None; raises ValueError otherwise."""
    key = value.strip().lower()
    if key not in _BOOLS:
        raise ValueError(value)
    return _BOOLS[key]


class _CachedWilayah(WilayahReference):
    """The reference with the kecamatan list of a kota remembered (the NIK rule asks for it on every row)."""

    def __init__(self, base: WilayahReference) -> None:
        super().__init__(list(base))
        self._kecamatan: dict[str, tuple[str, ...]] = {}

    def kecamatan_codes_of_kota(self, kota_code: str) -> tuple[str, ...]:
        """Codes of the kecamatan of a kota (cached)."""
        hit = self._kecamatan.get(kota_code)
        if hit is None:
            hit = self._kecamatan[kota_code] = super().kecamatan_codes_of_kota(kota_code)
        return hit


class _PartwiseCheck:
    """A NIK or No. KK decided exactly as `validate_nik` / `validate_no_kk` decide, remembered part by part.

    Both check the region (digits 1-6), then the date (7-12), then the serial (13-16). Region and date parts
    repeat across a city, so each is validated once (with a neutral other part) and remembered; only the serial
    is looked at per value. Both caches are bounded, so memory stays flat whatever the file size."""

    def __init__(self, field: str, validate: Any, today: date, wilayah: WilayahReference) -> None:
        self._field = field
        self._validate = validate
        self._today = today
        self._wilayah = wilayah
        self._region: dict[str, str] = {}
        self._date: dict[str, tuple[str | None, date | None, str | None]] = {}

    def __call__(self, value: str) -> tuple[str | None, date | None, str | None]:
        """(reason or None, the encoded birth date, the encoded sex) — the last two for a NIK only."""
        if len(value) != 16 or not (value.isascii() and value.isdigit()):
            return (f"{self._field}.not_16_digits", None, None)
        region = self._region.get(value[:6])
        if region is None:
            try:
                # 01-01-00 (2000-01-01) serial 0001 passes every date and serial rule: only the region decides.
                self._validate(value[:6] + "0101000001", today=self._today, wilayah=self._wilayah)
                region = ""
            except IdentifierError as exc:
                region = exc.field_reason
            if len(self._region) >= 100_000:
                self._region.clear()
            self._region[value[:6]] = region
        if region:
            return (region, None, None)
        hit = self._date.get(value[6:12])
        if hit is None:
            try:
                # This value's region passed, so only the date decides.
                info = self._validate(value[:12] + "0001", today=self._today, wilayah=self._wilayah)
                hit = (None, getattr(info, "birth_date", None), getattr(info, "sex", None))
            except IdentifierError as exc:
                hit = (exc.field_reason, None, None)
            if len(self._date) >= 200_000:
                self._date.clear()
            self._date[value[6:12]] = hit
        if hit[0] is None and value[12:] == "0000":
            return (f"{self._field}.serial_zero", None, None)
        return hit


class RowValidator:
    """Validates extract rows; caches what repeats (the family columns, wilayah codes) so rows stay cheap."""

    def __init__(self, import_id: str, today: date) -> None:
        self.import_id = import_id
        self.today = today
        self._kk: tuple[str, str | None] = ("", None)
        self._family: tuple[tuple[str, ...], Any] = ((), None)
        self._kelurahan: dict[str, tuple[str | None, str | None]] = {}
        self._idx: dict[str, int] | None = None
        self._getter: Callable[[list[str]], tuple[str, ...]] = tuple
        self._wilayah = _CachedWilayah(default_wilayah())
        self._check_nik = _PartwiseCheck("nik", validate_nik, today, self._wilayah)
        self._check_no_kk = _PartwiseCheck("no_kk", validate_no_kk, today, self._wilayah)
        # Fields in the header: a row with more was shifted or glued (an unquoted comma) and is refused.
        self.width: int | None = None
        # Whether a row may hold a NUL byte: a reader that has looked at its whole block says no (one memchr
        # per block instead of a join per row).
        self.nul_possible = True

    def _check_kk(self, no_kk: str) -> str | None:
        # A family's rows come together: its No. KK is checked once for the run of rows.
        if self._kk[0] != no_kk or not no_kk:
            self._kk = (no_kk, self._check_no_kk(no_kk)[0])
        return self._kk[1]

    def _check_kelurahan(self, code: str) -> tuple[str | None, str | None]:
        """(kecamatan, None) or (None, reason)."""
        hit = self._kelurahan.get(code)
        if hit is None:
            try:
                parse_wilayah_code(code)
                hit = (kecamatan_of(code), None) if default_wilayah().is_kelurahan(code) else None
            except IdentifierError as exc:
                hit = (None, exc.field_reason)
            if hit is None:
                hit = (None, "wilayah.unknown_kelurahan")
            if len(self._kelurahan) < 10_000:
                self._kelurahan[code] = hit
        return hit

    def _family_values(self, raw: tuple[str, ...]) -> tuple[list[tuple[str, str]], tuple[Any, ...]]:
        """(errors, (kelurahan, kecamatan, alamat, rt, rw, desil, period)) of the family columns, cached."""
        if self._family[0] == raw:
            cached: tuple[list[tuple[str, str]], tuple[Any, ...]] = self._family[1]
            return cached
        kel, alamat, rt_raw, rw_raw, desil_raw, period = raw
        errors: list[tuple[str, str]] = []
        kecamatan, reason = self._check_kelurahan(kel)
        if reason:
            errors.append(("kelurahan_code", reason))
        if not alamat:
            errors.append(("alamat", "alamat.required"))
        elif len(alamat) > 300:
            errors.append(("alamat", "alamat.too_long"))
        rt = rw = None
        try:
            rt = validate_rt_rw(rt_raw, "rt")
        except IdentifierError as exc:
            errors.append(("rt", exc.field_reason))
        try:
            rw = validate_rt_rw(rw_raw, "rw")
        except IdentifierError as exc:
            errors.append(("rw", exc.field_reason))
        desil: int | None = None
        if desil_raw:
            if desil_raw.isdigit() and 1 <= int(desil_raw) <= 10:
                desil = int(desil_raw)
            else:
                errors.append(("desil", "desil.out_of_range"))
        if period and not valid_period(period):
            errors.append(("periode_desil", "periode_desil.bad_format"))
        elif desil_raw and not period:
            errors.append(("periode_desil", "periode_desil.required"))
        elif period and not desil_raw:
            errors.append(("desil", "desil.required"))
        result = (errors, (kel, kecamatan, alamat, rt, rw, desil, period or None))
        self._family = (raw, result)
        return result

    def _columns_of(self, idx: dict[str, int]) -> Callable[[list[str]], tuple[str, ...]]:
        # One itemgetter per header, not a Python-level index per column per row.
        if self._idx is not idx:
            self._idx, self._getter = idx, itemgetter(*idx.values())
        return self._getter

    def row(self, row_no: int, values: list[str], idx: dict[str, int], out: Chunk) -> None:
        """Validate one row; append a staging record or its errors to `out`."""
        try:
            (
                no_kk,
                kel_raw,
                alamat_raw,
                rt_raw,
                rw_raw,
                nik,
                name,
                birth_place_raw,
                birth_date_raw,
                sex_raw,
                relationship_raw,
                marital_raw,
                education_raw,
                school_raw,
                occupation_raw,
                disability_raw,
                pregnant_raw,
                desil_raw,
                period_raw,
            ) = map(str.strip, self._columns_of(idx)(values))
        except IndexError:
            out.errors.append(RowError(row_no, "row", "row.column_count", None))
            out.bad_rows.append(BadRow(row_no, None, None, None, None, {"fields": values}))
            return
        errors: list[tuple[str, str]] = []
        if self.width is not None and len(values) > self.width:
            errors.append(("row", "row.too_many_fields"))
        if self.nul_possible and "\x00" in "".join(values):
            # PostgreSQL text cannot hold a NUL byte: the row is refused here, not the whole job at COPY.
            errors.append(("row", "row.nul_byte"))
        kk_reason = self._check_kk(no_kk)
        if kk_reason:
            errors.append(("no_kk", kk_reason))
        fam_errors, (kel, kecamatan, alamat, rt, rw, desil, period) = self._family_values(
            (kel_raw, alamat_raw, rt_raw, rw_raw, desil_raw, period_raw)
        )
        errors += fam_errors
        nik_issue, nik_birth, nik_sex = self._check_nik(nik)
        if nik_issue == "nik.not_16_digits":
            errors.append(("nik", nik_issue))
            nik_issue = None
        # Otherwise legacy data keeps a NIK that breaks a date/region rule; the registry flags it (invalid_nik).
        if not name:
            errors.append(("nama", "nama.required"))
        elif len(name) > 200:
            errors.append(("nama", "nama.too_long"))
        birth_place = birth_place_raw or None
        if birth_place and len(birth_place) > 100:
            errors.append(("tempat_lahir", "tempat_lahir.too_long"))
        birth_date = nik_birth
        if birth_date_raw:
            birth_date = parse_date(birth_date_raw)
            if birth_date is None:
                errors.append(("tanggal_lahir", "tanggal_lahir.bad_format"))
            elif birth_date > self.today:
                errors.append(("tanggal_lahir", "birth_date.future"))
        sex = sex_raw.upper() or nik_sex
        if sex not in (None, "L", "P"):
            errors.append(("jenis_kelamin", "jenis_kelamin.invalid"))
        relationship = relationship_raw.lower()
        if relationship not in _RELATIONSHIPS:
            errors.append(("hubungan", "hubungan.unknown"))
        marital = marital_raw.lower() or None
        if marital is not None and marital not in _MARITAL:
            errors.append(("status_kawin", "status_kawin.unknown"))
        education = education_raw or None
        if education and len(education) > 30:
            errors.append(("pendidikan", "pendidikan.too_long"))
        school = school_raw.lower() or None
        if school is not None and school not in _SCHOOL:
            errors.append(("status_sekolah", "status_sekolah.unknown"))
        occupation = occupation_raw or None
        if occupation and len(occupation) > 100:
            errors.append(("pekerjaan", "pekerjaan.too_long"))
        disability = disability_raw.lower() or None
        if disability is not None and disability not in _DISABILITY:
            errors.append(("disabilitas", "disabilitas.unknown"))
        pregnant = _BOOLS.get(pregnant_raw.lower())
        if pregnant is None and pregnant_raw.lower() not in _BOOLS:
            errors.append(("hamil", "hamil.invalid"))
        if errors:
            kk = no_kk if not kk_reason else None
            out.errors.extend(RowError(row_no, f, r, kk) for f, r in errors)
            raw: dict[str, Any] = dict(zip(COLUMNS, self._columns_of(idx)(values), strict=True))
            if any(f == "row" and r == "row.nul_byte" for f, r in errors):
                raw = {k: v.replace("\x00", "") for k, v in raw.items()}
            if self.width is not None and len(values) > self.width:
                raw["extra_fields"] = values[self.width :]
            known_kel = kel if kecamatan is not None and not any(f == "kelurahan_code" for f, _ in fam_errors) else None
            out.bad_rows.append(BadRow(row_no, kk, nik[:50], relationship[:50], known_kel, raw))
            return
        out.records.append(
            (
                self.import_id,
                row_no,
                no_kk,
                kel,
                kecamatan,
                alamat,
                rt,
                rw,
                nik,
                nik_issue,
                name,
                birth_place,
                birth_date,
                sex,
                relationship,
                marital,
                education,
                school,
                occupation,
                disability,
                pregnant,
                desil,
                period,
            )
        )


@contextmanager
def open_extract(path: Path) -> Iterator[IO[str]]:
    """A stored file as text: UTF-8, a BOM tolerated (spreadsheets often save one; it would corrupt the first
    column name), newlines left to the csv module."""
    with path.open(encoding="utf-8-sig", newline="", errors="strict") as fh:
        yield fh


def records(reader: Iterator[list[str]]) -> Iterator[list[str] | None]:
    """A csv reader's records; None for one it could not parse (it goes on with the next line)."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield None


def read_header(reader: Iterator[list[str]], validator: RowValidator) -> dict[str, int]:
    """The column positions from a reader's first record (the validator learns the header's width);
    ExtractFormatError if there is none or it is broken."""
    try:
        header = next(reader)
    except StopIteration:
        raise ExtractFormatError("the file is empty") from None
    except csv.Error as exc:
        raise ExtractFormatError(f"not a CSV file: {exc}") from None
    idx = header_index(header, COLUMNS)
    validator.width = len(header)
    return idx


def validate_records(
    rows: Iterator[list[str] | None], *, validator: RowValidator, idx: dict[str, int], row_no: int, out: Chunk
) -> int:
    """Validate records numbered on from `row_no` (the number of the record before them) into `out`; returns the
    number of the last one. `rows`: a csv reader or `records` of one. A blank line has a number, is no row."""
    while True:
        try:
            # A plain loop over the reader, restarted after a record it cannot parse: a generator turning
            # errors into values cost more per row than the csv parsing it wrapped.
            for values in rows:
                row_no += 1
                if values is None:
                    out.rows += 1
                    out.errors.append(RowError(row_no, "row", "row.malformed_csv", None))
                    out.bad_rows.append(BadRow(row_no, None, None, None, None, {}))
                elif values:
                    out.rows += 1
                    validator.row(row_no, values, idx, out)
            return row_no
        except csv.Error:
            row_no += 1
            out.rows += 1
            out.errors.append(RowError(row_no, "row", "row.malformed_csv", None))
            out.bad_rows.append(BadRow(row_no, None, None, None, None, {}))


def read_chunks(
    stream: IO[str],
    *,
    import_id: str,
    today: date,
    chunk_rows: int = 10_000,
    part: int = 0,
    parts: int = 1,
    start: tuple[RowValidator, dict[str, int], int, int] | None = None,
) -> Iterator[Chunk]:
    """Validated chunks of a text stream (csv module, one chunk in memory at a time).

    With `parts` > 1, only every `parts`-th chunk from chunk `part` on is validated and yielded; the others are
    read and counted only. Workers given parts 0..parts-1 of one file share its rows exactly between them.
    `start` = (validator, column positions, number of the last record read, index of the next chunk): the
    stream starts after the header, mid-file (`pipeline.part_chunks` hands over here)."""
    reader = csv.reader(stream)
    if start is None:
        validator, row_no, index = RowValidator(import_id, today), 1, 0
        idx = read_header(reader, validator)
    else:
        validator, idx, row_no, index = start
    rows = records(reader)
    while True:
        # A chunk is `chunk_rows` records (blank lines included): another part's chunk is only counted.
        if index % parts == part:
            chunk = Chunk()
            last = validate_records(islice(rows, chunk_rows), validator=validator, idx=idx, row_no=row_no, out=chunk)
            if last == row_no:
                return
            row_no = last
            if chunk.rows:
                yield chunk
        else:
            skipped = sum(1 for _ in islice(rows, chunk_rows))
            if not skipped:
                return
            row_no += skipped
        index += 1
