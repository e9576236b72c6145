"""Wilayah reference (Kemendagri codes, names, BPS codes, aliases) loaded from the CSV in the wilayah package.

It sits beside the identifier rules because each needs the other: the reference parses wilayah codes, and a NIK's
region is checked against the reference's kecamatan."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from services.registry.domain.identifiers import IdentifierError, Tingkat, parse_wilayah_code

DEFAULT_DATA_FILE = "padang_wilayah_2025.csv"
COLUMNS = ("kode", "nama", "tingkat", "kode_bps", "alias")

# BPS codes are undotted and have a fixed length per level (e.g. kecamatan 1371110, kelurahan 1371110001).
_BPS_LENGTH: dict[str, int] = {
    "provinsi": 2,
    "kabupaten": 4,
    "kota": 4,
    "kecamatan": 7,
    "kelurahan": 10,
    "desa": 10,
}
_VILLAGE_LEVELS = ("kelurahan", "desa")


class WilayahDataError(ValueError):
    """The wilayah CSV breaks a rule; the message names the line."""


@dataclass(frozen=True)
class Wilayah:
    """One administrative area."""

    code: str
    name: str
    tingkat: Tingkat
    parent: str | None
    kode_bps: str | None = None
    aliases: tuple[str, ...] = ()


class WilayahReference:
    """Read-only lookups over a set of wilayah, always keyed on the Kemendagri code."""

    def __init__(self, areas: list[Wilayah]) -> None:
        self._by_code = {area.code: area for area in sorted(areas, key=lambda area: area.code)}
        self._children: dict[str, list[Wilayah]] = {}
        for area in self._by_code.values():
            if area.parent is not None:
                self._children.setdefault(area.parent, []).append(area)
        self._by_bps = {area.kode_bps: area for area in self._by_code.values() if area.kode_bps}

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[Wilayah]:
        return iter(self._by_code.values())

    def get(self, code: str) -> Wilayah:
        """The area with this Kemendagri code; KeyError if unknown."""
        return self._by_code[code]

    def find(self, code: str) -> Wilayah | None:
        """The area with this Kemendagri code, or None."""
        return self._by_code.get(code)

    def by_bps(self, kode_bps: str) -> Wilayah | None:
        """The area with this BPS code, or None."""
        return self._by_bps.get(kode_bps)

    def children(self, code: str) -> list[Wilayah]:
        """Areas directly under this code, ordered by code."""
        return list(self._children.get(code, ()))

    def kecamatan_list(self, within: str | None = None) -> list[Wilayah]:
        """All kecamatan, or those under the area `within`, ordered by code."""
        return self._at_levels(("kecamatan",), within)

    def kelurahan_list(self, within: str | None = None) -> list[Wilayah]:
        """All kelurahan and desa, or those under the area `within`, ordered by code."""
        return self._at_levels(_VILLAGE_LEVELS, within)

    def is_kelurahan(self, code: str) -> bool:
        """True when the code is a known kelurahan or desa (where a family's address can point)."""
        area = self._by_code.get(code)
        return area is not None and area.tingkat in _VILLAGE_LEVELS

    def kecamatan_codes_of_kota(self, kota_code: str) -> tuple[str, ...]:
        """Codes of the kecamatan of a kota or kabupaten, ordered."""
        return tuple(area.code for area in self.children(kota_code) if area.tingkat == "kecamatan")

    def search(
        self,
        query: str,
        *,
        tingkat: Tingkat | None = None,
        within: str | None = None,
        partial: bool = False,
    ) -> list[Wilayah]:
        """Areas whose name or alias matches the query, ignoring case, accents, punctuation and spacing."""
        wanted = normalize_name(query)
        if not wanted:
            return []
        found = []
        for area in self._by_code.values():
            if tingkat is not None and area.tingkat != tingkat:
                continue
            if within is not None and not _is_under(area.code, within):
                continue
            names = [normalize_name(name) for name in (area.name, *area.aliases)]
            if any(wanted in name if partial else wanted == name for name in names):
                found.append(area)
        return found

    def _at_levels(self, levels: tuple[str, ...], within: str | None) -> list[Wilayah]:
        return [
            area
            for area in self._by_code.values()
            if area.tingkat in levels and (within is None or _is_under(area.code, within))
        ]


def normalize_name(name: str) -> str:
    """Comparable form of a place name: 'Bukit Gado-Gado ' and 'bukit gado gado' become equal."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(char for char in decomposed if not unicodedata.combining(char))
    spaced = "".join(char if char.isalnum() else " " for char in letters.casefold())
    return " ".join(spaced.split())


def load_wilayah(path: Path | None = None) -> WilayahReference:
    """Load and validate a wilayah CSV (kode,nama,tingkat,kode_bps,alias); default: the packaged file."""
    # utf-8-sig: a CSV saved from a spreadsheet often starts with a BOM, which would corrupt the header.
    if path is None:
        text = (
            resources.files("services.registry.wilayah")
            .joinpath("data", DEFAULT_DATA_FILE)
            .read_text(encoding="utf-8-sig")
        )
        source = DEFAULT_DATA_FILE
    else:
        text = path.read_text(encoding="utf-8-sig")
        source = str(path)
    return WilayahReference(parse_wilayah_csv(text, source=source))


def parse_wilayah_csv(text: str, *, source: str = "<csv>") -> list[Wilayah]:
    """Parse and validate wilayah CSV text; raise WilayahDataError naming the first bad line."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise WilayahDataError(f"{source}: header must be {','.join(COLUMNS)}, got {reader.fieldnames}")
    areas: dict[str, Wilayah] = {}
    bps_seen: dict[str, str] = {}
    for row in reader:
        where = f"{source}:{reader.line_num}"
        area = _row_to_wilayah(row, where)
        if area.code in areas:
            raise WilayahDataError(f"{where}: duplicate kode {area.code}")
        if area.kode_bps is not None:
            if area.kode_bps in bps_seen:
                raise WilayahDataError(f"{where}: kode_bps {area.kode_bps} already used by {bps_seen[area.kode_bps]}")
            bps_seen[area.kode_bps] = area.code
        areas[area.code] = area
    _check_parents(areas, source)
    return list(areas.values())


def _row_to_wilayah(row: dict[str | None, str | None], where: str) -> Wilayah:
    if None in row or any(row.get(column) is None for column in COLUMNS):
        raise WilayahDataError(f"{where}: expected {len(COLUMNS)} columns")
    code, name, tingkat, kode_bps, alias = (str(row[column]).strip() for column in COLUMNS)
    try:
        parsed = parse_wilayah_code(code)
    except IdentifierError as error:
        raise WilayahDataError(f"{where}: kode {code!r}: {error.message}") from None
    if tingkat != parsed.tingkat:
        raise WilayahDataError(f"{where}: kode {code} is a {parsed.tingkat}, but tingkat says {tingkat!r}")
    if not name:
        raise WilayahDataError(f"{where}: kode {code} has no nama")
    if kode_bps and not (kode_bps.isascii() and kode_bps.isdigit() and len(kode_bps) == _BPS_LENGTH[tingkat]):
        raise WilayahDataError(f"{where}: kode_bps {kode_bps!r} is not {_BPS_LENGTH[tingkat]} digits")
    aliases = tuple(part.strip() for part in alias.split("|")) if alias else ()
    if any(not part for part in aliases):
        raise WilayahDataError(f"{where}: empty alias in {alias!r}")
    return Wilayah(
        code=code,
        name=name,
        tingkat=parsed.tingkat,
        parent=parsed.parent,
        kode_bps=kode_bps or None,
        aliases=aliases,
    )


def _check_parents(areas: dict[str, Wilayah], source: str) -> None:
    for area in areas.values():
        if area.parent is None:
            continue
        parent = areas.get(area.parent)
        if parent is None:
            raise WilayahDataError(f"{source}: parent {area.parent} of {area.code} is missing")
        # BPS codes nest like Kemendagri ones, so a child's BPS code must extend its parent's.
        if area.kode_bps and parent.kode_bps and not area.kode_bps.startswith(parent.kode_bps):
            raise WilayahDataError(
                f"{source}: kode_bps {area.kode_bps} of {area.code} is not under {parent.kode_bps} of {parent.code}"
            )


def _is_under(code: str, ancestor: str) -> bool:
    return code.startswith(ancestor + ".")


@cache
def default_wilayah() -> WilayahReference:
    """The packaged reference, loaded once per process."""
    return load_wilayah()
