"""A deterministic synthetic city: a DTSEN-style extract of Padang plus the external lists that go with it.

    tepat generate-city --families 250000 --seed 7 --out data/city

Everything is made up (names from syllable lists) but shaped like the real thing: Padang's 11 kecamatan and
104 kelurahan from the registry's wilayah reference, household sizes 1-8 (mean ~3.8), ages and sexes, NIKs and
No. KKs with the real structure (region, birth/issue date, +40 for women, serial), RT/RW, a desil per family that
drifts a little from quarter to quarter, and planted defects at audit-like rates (DOMAIN §7):

- ~1% of members with an invalid NIK: 3 in 4 break a date rule (month 13-24: kept and flagged invalid_nik by the
  import), 1 in 4 are not 16 digits (rejected, and their family with them);
- ~0.3% of families list a person already listed in the previous family (duplicate NIK across KKs);
- ~0.5% of members are dead but still listed → death_list.csv (plus ~3% of list rows that match nobody);
- ~0.6% of families get a death-list entry that contradicts the register (`generate_city` only, see
  `plant_death_list_defects`): dated before the person's birth, in the future, or under another person's name
  (→ death_record_conflict), or the head's own death (→ head_deceased: the family needs a new recipient);
- ~0.4% of members hold an excluded occupation → excluded_list.csv (plus ~3% unmatched rows);
- ~0.2% of families with a bad RT or a kelurahan code that does not exist.

`generate_defect_city` (`tepat generate-city --audit-defects`) plants instead the defects of the correction
queue (`PLANTERS`: invalid NIKs of each rule, duplicate NIKs in the file and against the registry, identical and
conflicting KK copies, rows with an extra field) and writes `ground_truth.json`: every valid person and every
planted defect with its row and the expected outcome.

Output is streamed (one family in memory at a time) and the same seed always gives the same bytes: each family
draws from its own `random.Random(f"{seed}:{index}")`, and identifiers are built from the family/person index so
that they are unique without remembering the ones already issued.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import IO

from services.registry.domain.wilayah import WilayahReference, default_wilayah

EXTRACT_COLUMNS = (
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
DEATH_COLUMNS = ("nik", "tanggal_meninggal", "no_akta_kematian")
EXCLUDED_COLUMNS = ("nik", "kategori", "instansi")

# Audit-like defect rates (per member or per family, as named).
RATE_INVALID_NIK = 0.01  # per member
RATE_DUPLICATE_NIK = 0.003  # per family
RATE_DECEASED = 0.005  # per member
RATE_EXCLUDED = 0.004  # per member
RATE_BAD_ADDRESS = 0.002  # per family
RATE_UNMATCHED_LIST_ROWS = 0.03  # extra rows of each list that match nobody
RATE_DEATH_CONFLICT = 0.0045  # per family: a death-list entry contradicting the register (3 kinds, equal shares)
RATE_HEAD_DECEASED = 0.0015  # per family without another planted death: the head dies

# Household sizes 1-8; mean ≈ 3.83 (Padang: ~950k people in ~250k families).
SIZE_WEIGHTS = (0.09, 0.15, 0.21, 0.22, 0.16, 0.09, 0.05, 0.03)
SERIALS = 9999
# Birth dates are spread by person index inside a year: unique NIKs for up to SERIALS * 365 people.
MAX_PEOPLE = SERIALS * 365

_SYLLABLES_FIRST = ("a", "ri", "da", "ni", "su", "ya", "fi", "ra", "ma", "yu", "de", "wi", "li", "za", "han", "ti")
_SYLLABLES_LAST = ("di", "na", "ti", "man", "sri", "wan", "dra", "sih", "nur", "far", "zal", "mi", "ka", "lin")
_FAMILY_NAMES = ("Putra", "Sari", "Rahman", "Hidayat", "Lestari", "Saputra", "Yuliani", "Pratama", "Wati", "Fitri")
_STREETS = ("Jl. Nipah", "Jl. Sawahan", "Jl. Kampung Jao", "Jl. Belibis", "Jl. Cendana", "Jl. Kapalo Koto", "Gg. Damai")
_PLACES = ("Padang", "Padang", "Padang", "Pariaman", "Bukittinggi", "Solok", "Painan", "Payakumbuh", "Medan")
_OCCUPATIONS = (
    "Buruh Harian Lepas",
    "Pedagang",
    "Nelayan",
    "Petani",
    "Wiraswasta",
    "Karyawan Swasta",
    "Mengurus Rumah Tangga",
    "Sopir",
    "Tukang",
    "Tidak Bekerja",
)
_EXCLUDED_EMPLOYERS = {
    "pns": "Pemerintah Kota Padang",
    "tni": "Kodim 0312/Padang",
    "polri": "Polresta Padang",
    "pejabat": "DPRD Kota Padang",
    "bumn_bumd": "PT Semen Padang",
}


@dataclass(frozen=True)
class Person:
    """One member row."""

    nik: str
    name: str
    birth_place: str
    birth_date: date
    sex: str
    relationship: str
    marital_status: str
    education: str
    school_status: str
    occupation: str
    disability: str
    pregnant: bool


@dataclass
class Household:
    """One family with its rows and the list entries it causes."""

    no_kk: str
    kelurahan_code: str
    address: str
    rt: str
    rw: str
    desil_by_period: dict[str, int]
    members: list[Person] = field(default_factory=list)
    deaths: list[tuple[str, str, str]] = field(default_factory=list)
    excluded: list[tuple[str, str, str]] = field(default_factory=list)
    # What plant_defects did to this family: duplicate_nik, bad_rt, bad_kelurahan, invalid_nik, short_nik.
    defects: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CityStats:
    """What was written."""

    families: int
    members: int
    death_rows: int
    excluded_rows: int
    files: tuple[Path, ...]
    # Ground truth of plant_death_list_defects: NIK → death_before_birth / death_in_future / name_mismatch /
    # head_deceased (the NIK as written; a family the import rejects never matches).
    planted_deaths: dict[str, str] = field(default_factory=dict)


def quarter_end(period: str) -> date:
    """Last day of a '2026-Q3' period (the generator's 'today')."""
    year, q = int(period[:4]), int(period[-1])
    first_of_next = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    return first_of_next - timedelta(days=1)


def previous_periods(period: str, count: int) -> list[str]:
    """`count` periods ending with `period`, oldest first ('2026-Q1' → [..., '2025-Q4', '2026-Q1'])."""
    year, q = int(period[:4]), int(period[-1])
    out = []
    for _ in range(count):
        out.append(f"{year}-Q{q}")
        q -= 1
        if q == 0:
            year, q = year - 1, 4
    return out[::-1]


def _name(rng: random.Random) -> str:
    first = "".join(rng.choice(_SYLLABLES_FIRST) for _ in range(rng.randint(2, 3))).capitalize()
    last = "".join(rng.choice(_SYLLABLES_LAST) for _ in range(2)).capitalize()
    return f"{first} {last} {rng.choice(_FAMILY_NAMES)}"


def _nik(region: str, birth_date: date, sex: str, serial: int) -> str:
    day = birth_date.day + (40 if sex == "P" else 0)
    return f"{region}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial:04d}"


class _City:
    """Stateless per family: family `i` is a pure function of (seed, i, periods)."""

    def __init__(self, seed: int, periods: Sequence[str], wilayah: WilayahReference) -> None:
        self.seed = seed
        self.periods = list(periods)
        self.today = quarter_end(self.periods[-1])
        kota = "13.71"
        self.kecamatan = [k.code for k in wilayah.kecamatan_list(kota)]
        self.kelurahan = {k: [v.code for v in wilayah.kelurahan_list(k)] for k in self.kecamatan}

    def _birth_date(self, person_index: int, age: int) -> date:
        serial_class, q = person_index % SERIALS, person_index // SERIALS
        # Injective in q for a fixed serial class (q < 365), so (date, serial) never repeats.
        offset = (q + serial_class * 7) % 365
        born = date(self.today.year - age, 1, 1) + timedelta(days=offset)
        while born > self.today:
            born = date(born.year - 1, 1, 1) + timedelta(days=offset)
        return born

    def household(self, index: int, first_person: int) -> Household:
        """Family `index`; its people are numbered from `first_person`."""
        rng = random.Random(f"{self.seed}:{index}")
        kec = rng.choice(self.kecamatan)
        kel = rng.choice(self.kelurahan[kec])
        region = kec.replace(".", "")
        serial_class, q = index % SERIALS, index // SERIALS
        issued = date(2005, 1, 1) + timedelta(days=(q * 37 + serial_class * 13) % 5000)
        no_kk = f"{region}{issued:%d%m%y}{serial_class + 1:04d}"
        desil = rng.choices(range(1, 11), weights=(14, 13, 12, 11, 10, 10, 9, 8, 7, 6))[0]
        desil_by_period: dict[str, int] = {}
        for period in self.periods:
            desil_by_period[period] = desil
            if rng.random() < 0.2:
                desil = min(10, max(1, desil + rng.choice((-1, 1))))
        hh = Household(
            no_kk=no_kk,
            kelurahan_code=kel,
            address=f"{rng.choice(_STREETS)} No. {rng.randint(1, 250)}",
            rt=f"{rng.randint(1, 12):03d}",
            rw=f"{rng.randint(1, 8):03d}",
            desil_by_period=desil_by_period,
        )
        size = rng.choices(range(1, 9), weights=SIZE_WEIGHTS)[0]
        person = first_person
        head_sex = "L" if rng.random() < 0.85 else "P"
        head_age = rng.randint(24, 78)
        married = size >= 2 and rng.random() < 0.85
        specs: list[tuple[str, str, int]] = [("kepala_keluarga", head_sex, head_age)]
        if married:
            spouse_sex = "P" if head_sex == "L" else "L"
            specs.append(
                ("istri" if spouse_sex == "P" else "suami", spouse_sex, max(18, head_age + rng.randint(-8, 4)))
            )
        while len(specs) < size:
            if len(specs) >= 5 and head_age < 55 and rng.random() < 0.3:
                specs.append(("orang_tua", rng.choice("LP"), min(95, head_age + rng.randint(20, 30))))
            else:
                youngest_parent = min(head_age, specs[1][2] if married else head_age)
                specs.append(("anak", rng.choice("LP"), rng.randint(0, max(0, min(25, youngest_parent - 18)))))
        for relationship, sex, age in specs:
            hh.members.append(self._person(rng, person, region, relationship, sex, age, married))
            person += 1
        return hh

    def _person(
        self, rng: random.Random, index: int, region: str, relationship: str, sex: str, age: int, married: bool
    ) -> Person:
        born = self._birth_date(index, age)
        # Some people were first registered (got their NIK) in another Padang kecamatan.
        nik_region = region if rng.random() < 0.9 else rng.choice(self.kecamatan).replace(".", "")
        nik = _nik(nik_region, born, sex, index % SERIALS + 1)
        if 7 <= age <= 12:
            school, education = "sd", "Belum Tamat SD"
        elif 13 <= age <= 15:
            school, education = "smp", "SD"
        elif 16 <= age <= 18:
            school, education = "sma", "SMP"
        elif 19 <= age <= 22 and rng.random() < 0.3:
            school, education = "college", "SMA"
        else:
            school = "none"
            education = "Tidak Sekolah" if age < 7 else rng.choice(("SD", "SMP", "SMA", "SMA", "D3", "S1"))
        if relationship in ("kepala_keluarga", "istri", "suami"):
            marital = "kawin" if married else rng.choice(("cerai_hidup", "cerai_mati", "belum_kawin"))
        elif relationship == "orang_tua":
            marital = rng.choice(("kawin", "cerai_mati"))
        else:
            marital = "belum_kawin"
        occupation = rng.choice(_OCCUPATIONS) if age >= 18 and school == "none" else "Pelajar/Mahasiswa"
        if age < 7:
            occupation = "Belum Bekerja"
        roll = rng.random()
        disability = "severe" if roll < 0.005 else "moderate" if roll < 0.012 else "mild" if roll < 0.025 else "none"
        pregnant = (
            sex == "P" and 19 <= age <= 40 and relationship in ("istri", "kepala_keluarga") and rng.random() < 0.06
        )
        return Person(
            nik=nik,
            name=_name(rng),
            birth_place=rng.choice(_PLACES),
            birth_date=born,
            sex=sex,
            relationship=relationship,
            marital_status=marital,
            education=education,
            school_status=school,
            occupation=occupation,
            disability=disability,
            pregnant=pregnant,
        )

    def plant_defects(self, hh: Household, index: int, previous: Household | None) -> None:
        """Audit-like defects, drawn from a stream of their own so they do not shift the clean data."""
        rng = random.Random(f"{self.seed}:defects:{index}")
        if previous is not None and len(hh.members) >= 2 and rng.random() < RATE_DUPLICATE_NIK:
            # The same person on two KKs (e.g. a married child never removed from the parents' KK).
            twin = rng.choice(previous.members)
            hh.members[-1] = replace(twin, relationship="anak" if twin.relationship == "anak" else "famili_lain")
            hh.defects.append("duplicate_nik")
        if rng.random() < RATE_BAD_ADDRESS:
            if rng.random() < 0.5:
                hh.rt = rng.choice(("0", "1000", "1a"))
                hh.defects.append("bad_rt")
            else:
                hh.kelurahan_code = hh.kelurahan_code[:-4] + "1999"
                hh.defects.append("bad_kelurahan")
        for i, m in enumerate(hh.members):
            if rng.random() < RATE_INVALID_NIK:
                # 3 in 4: month 13-24, a date rule broken, kept and flagged (unique: month + 12);
                # 1 in 4: 15 digits, unusable, the family is rejected.
                month13 = f"{m.nik[:8]}{int(m.nik[8:10]) + 12:02d}{m.nik[10:]}"
                bad = month13 if rng.random() < 0.75 else m.nik[:15]
                hh.members[i] = m = replace(m, nik=bad)
                hh.defects.append("invalid_nik" if bad == month13 else "short_nik")
            if rng.random() < RATE_DECEASED:
                died = max(m.birth_date, self.today - timedelta(days=rng.randint(30, 700)))
                akta = f"1371-KM-{died:%Y%m%d}-{index % 100000:05d}{i}"
                hh.deaths.append((m.nik, died.isoformat(), akta))
            age = (self.today - m.birth_date).days // 365
            if 20 <= age <= 60 and rng.random() < RATE_EXCLUDED * 2.2:  # ~45% of members are 20-60
                kind = rng.choice(tuple(_EXCLUDED_EMPLOYERS))
                hh.excluded.append((m.nik, kind, _EXCLUDED_EMPLOYERS[kind]))


def plant_death_list_defects(seed: int, hh: Household, index: int, today: date) -> list[tuple[str, str, str, str]]:
    """Death-list rows (nik, date, akta, nama) that test the list against the register, each labelled in
    hh.defects; a stream of its own, so the clean data and the other defects do not move."""
    rng = random.Random(f"{seed}:death-list-defects:{index}")
    dead = {nik for nik, _, _ in hh.deaths}
    alive = [m for m in hh.members if m.nik not in dead and len(m.nik) == 16]
    if not alive:
        return []
    akta = f"1371-KM-X{index:07d}"
    roll = rng.random()
    if roll < RATE_DEATH_CONFLICT:
        m = rng.choice(alive)
        kind = ("death_before_birth", "death_in_future", "name_mismatch")[int(roll / RATE_DEATH_CONFLICT * 3)]
        if kind == "death_before_birth":
            died, name = m.birth_date - timedelta(days=rng.randint(30, 3000)), m.name
        elif kind == "death_in_future":
            # Far enough ahead to stay in the future for a year or two of runs after the period.
            died, name = today + timedelta(days=rng.randint(500, 900)), m.name
        else:
            died, name = today - timedelta(days=rng.randint(30, 300)), _other_name(rng, m.name)
        hh.defects.append(kind)
        return [(m.nik, died.isoformat(), akta, name)]
    head = hh.members[0]
    if not dead and head in alive and roll < RATE_DEATH_CONFLICT + RATE_HEAD_DECEASED:
        hh.defects.append("head_deceased")
        died = max(head.birth_date, today - timedelta(days=rng.randint(30, 300)))
        # Written the way Dukcapil often does: upper case with the Alm./Almh. title (names compare normalised).
        title = "ALM." if head.sex == "L" else "ALMH."
        return [(head.nik, died.isoformat(), akta, f"{title} {head.name.upper()}")]
    return []


def _other_name(rng: random.Random, name: str) -> str:
    while (other := _name(rng)) == name:
        pass
    return other


def _unmatched_nik(index: int, today: date) -> str:
    # People from other kabupaten (Pesisir Selatan 13.01): never in the Padang extract.
    born = date(1970, 1, 1) + timedelta(days=index % 15000)
    if born > today:
        born = date(1970, 1, 1)
    return _nik("130101", born, "L", index // 15000 % SERIALS + 1)


def families(
    count: int,
    seed: int,
    *,
    period: str = "2026-Q3",
    quarters: int = 1,
    wilayah: WilayahReference | None = None,
    plant: bool = True,
) -> Iterator[Household]:
    """The households of the city in order, one at a time, with their planted defects (`plant`)."""
    city = _City(seed, previous_periods(period, quarters), wilayah or default_wilayah())
    person = 0
    previous: Household | None = None
    for i in range(count):
        hh = city.household(i, person)
        person += len(hh.members)
        if person > MAX_PEOPLE:
            raise ValueError(f"at most {MAX_PEOPLE} people (unique NIKs by construction)")
        clean_last = hh.members[-1]
        if plant:
            city.plant_defects(hh, i, previous)
        yield hh
        # The next family may copy someone from this one: keep the clean version.
        previous = hh if hh.members[-1] == clean_last else replace(hh, members=[*hh.members[:-1], clean_last])


def _extract_row(hh: Household, m: Person, period: str) -> list[str]:
    return [
        hh.no_kk,
        hh.kelurahan_code,
        hh.address,
        hh.rt,
        hh.rw,
        m.nik,
        m.name,
        m.birth_place,
        m.birth_date.isoformat(),
        m.sex,
        m.relationship,
        m.marital_status,
        m.education,
        m.school_status,
        m.occupation,
        m.disability,
        "ya" if m.pregnant else "tidak",
        str(hh.desil_by_period[period]),
        period,
    ]


def generate_city(
    out: Path, *, families_count: int, seed: int, period: str = "2026-Q3", quarters: int = 1
) -> CityStats:
    """Write extract.csv (newest period), extract_<period>.csv for earlier quarters, death_list.csv and
    excluded_list.csv into `out`, streaming."""
    out.mkdir(parents=True, exist_ok=True)
    periods = previous_periods(period, quarters)
    paths = {p: out / ("extract.csv" if p == period else f"extract_{p}.csv") for p in periods}
    death_path, excluded_path = out / "death_list.csv", out / "excluded_list.csv"
    handles: list[IO[str]] = []
    try:
        writers = {}
        for p, path in paths.items():
            fh: IO[str] = path.open("w", encoding="utf-8", newline="")
            handles.append(fh)
            writers[p] = csv.writer(fh, lineterminator="\n")
            writers[p].writerow(EXTRACT_COLUMNS)
        dfh: IO[str] = death_path.open("w", encoding="utf-8", newline="")
        efh: IO[str] = excluded_path.open("w", encoding="utf-8", newline="")
        handles += [dfh, efh]
        deaths, excluded = csv.writer(dfh, lineterminator="\n"), csv.writer(efh, lineterminator="\n")
        deaths.writerow((*DEATH_COLUMNS, "nama"))
        excluded.writerow(EXCLUDED_COLUMNS)
        today = quarter_end(period)
        extra = random.Random(f"{seed}:lists")
        n_members = n_deaths = n_excluded = unmatched = 0
        planted: dict[str, str] = {}
        for index, hh in enumerate(families(families_count, seed, period=period, quarters=quarters)):
            for m in hh.members:
                for p in periods:
                    writers[p].writerow(_extract_row(hh, m, p))
            n_members += len(hh.members)
            names = {m.nik: m.name for m in hh.members}
            for row in hh.deaths:
                deaths.writerow((*row, names[row[0]]))
                n_deaths += 1
                if extra.random() < RATE_UNMATCHED_LIST_ROWS:
                    deaths.writerow((_unmatched_nik(unmatched, today), row[1], f"1301-KM-{unmatched:06d}", ""))
                    unmatched += 1
                    n_deaths += 1
            for planted_row in plant_death_list_defects(seed, hh, index, today):
                deaths.writerow(planted_row)
                n_deaths += 1
                planted[planted_row[0]] = hh.defects[-1]
            for row in hh.excluded:
                excluded.writerow(row)
                n_excluded += 1
                if extra.random() < RATE_UNMATCHED_LIST_ROWS:
                    excluded.writerow((_unmatched_nik(unmatched, today), row[1], row[2]))
                    unmatched += 1
                    n_excluded += 1
    finally:
        for fh in handles:
            fh.close()
    return CityStats(
        families=families_count,
        members=n_members,
        death_rows=n_deaths,
        excluded_rows=n_excluded,
        files=(*paths.values(), death_path, excluded_path),
        planted_deaths=planted,
    )


# --- Two quarters of a city for the end-to-end scenario (demo/scenario.py) ---

RATE_NEW_IN_SECOND_QUARTER = 0.05  # per family: registered by BPS only in the second quarter's extract
RATE_LATE_DEATH = 0.3  # share of planted deaths that Dukcapil reports only in the second quarter


@dataclass(frozen=True)
class QuarterFiles:
    """The files of a two-quarter story and what was planted in them (keyed by No. KK, never by a person)."""

    periods: tuple[str, str]
    extract: tuple[Path, Path]
    death_list: tuple[Path, Path]
    excluded_list: Path
    families: tuple[int, int]
    desil: dict[str, tuple[int, int]]
    new_in_second: frozenset[str]
    deceased: tuple[frozenset[str], frozenset[str]]
    excluded: frozenset[str]
    defects: dict[str, tuple[str, ...]]


def write_quarters(out: Path, *, families_count: int, seed: int, period: str = "2026-Q2") -> QuarterFiles:
    """Write the extracts of the quarter before `period` and of `period`, the death list of each quarter and one
    excluded-occupation list. ~5% of the families appear only in the second extract, ~30% of the deaths are
    reported only on the second death list (dated in that quarter), desil drifts between the quarters."""
    out.mkdir(parents=True, exist_ok=True)
    first, second = previous_periods(period, 2)
    first_end, second_end = quarter_end(first), quarter_end(period)
    paths = (out / f"extract_{first}.csv", out / f"extract_{second}.csv")
    death_paths = (out / f"death_list_{first}.csv", out / f"death_list_{second}.csv")
    excluded_path = out / "excluded_list.csv"
    desil: dict[str, tuple[int, int]] = {}
    new: set[str] = set()
    deceased: tuple[set[str], set[str]] = (set(), set())
    excluded: set[str] = set()
    defects: dict[str, tuple[str, ...]] = {}
    extra = random.Random(f"{seed}:quarters:lists")
    unmatched = 0
    counts = [0, 0]
    with (
        paths[0].open("w", encoding="utf-8", newline="") as e1,
        paths[1].open("w", encoding="utf-8", newline="") as e2,
        death_paths[0].open("w", encoding="utf-8", newline="") as d1,
        death_paths[1].open("w", encoding="utf-8", newline="") as d2,
        excluded_path.open("w", encoding="utf-8", newline="") as ex,
    ):
        extracts = (csv.writer(e1, lineterminator="\n"), csv.writer(e2, lineterminator="\n"))
        deaths = (csv.writer(d1, lineterminator="\n"), csv.writer(d2, lineterminator="\n"))
        excl = csv.writer(ex, lineterminator="\n")
        for w in extracts:
            w.writerow(EXTRACT_COLUMNS)
        for w in deaths:
            w.writerow(DEATH_COLUMNS)
        excl.writerow(EXCLUDED_COLUMNS)
        for index, hh in enumerate(families(families_count, seed, period=period, quarters=2)):
            rng = random.Random(f"{seed}:quarters:{index}")
            late_family = rng.random() < RATE_NEW_IN_SECOND_QUARTER
            desil[hh.no_kk] = (hh.desil_by_period[first], hh.desil_by_period[second])
            if hh.defects:
                defects[hh.no_kk] = tuple(hh.defects)
            if late_family:
                new.add(hh.no_kk)
            for q, p in enumerate((first, second)):
                if q == 0 and late_family:
                    continue
                counts[q] += 1
                for m in hh.members:
                    extracts[q].writerow(_extract_row(hh, m, p))
            for nik, died, akta in hh.deaths:
                late = late_family or rng.random() < RATE_LATE_DEATH
                if late:
                    died = (second_end - timedelta(days=rng.randint(5, 80))).isoformat()
                elif died > first_end.isoformat():
                    died = (first_end - timedelta(days=rng.randint(5, 80))).isoformat()
                deaths[int(late)].writerow((nik, died, akta))
                deceased[int(late)].add(hh.no_kk)
                if extra.random() < RATE_UNMATCHED_LIST_ROWS:
                    deaths[int(late)].writerow((_unmatched_nik(unmatched, first_end), died, f"1301-KM-{unmatched:06d}"))
                    unmatched += 1
            for row in hh.excluded:
                excl.writerow(row)
                excluded.add(hh.no_kk)
                if extra.random() < RATE_UNMATCHED_LIST_ROWS:
                    excl.writerow((_unmatched_nik(unmatched, first_end), row[1], row[2]))
                    unmatched += 1
    return QuarterFiles(
        periods=(first, second),
        extract=paths,
        death_list=death_paths,
        excluded_list=excluded_path,
        families=(counts[0], counts[1]),
        desil=desil,
        new_in_second=frozenset(new),
        deceased=(frozenset(deceased[0]), frozenset(deceased[1] - deceased[0])),
        excluded=frozenset(excluded),
        defects=defects,
    )


# --- Payer reports (bank and Pos) for the payment lines of a tahap ---

PAYER_REPORT_COLUMNS = ("line_id", "status", "amount", "date", "reference", "failure_reason")
POS_SHARE = 0.25  # families paid in cash through PT Pos (no KKS account)
# (outcome, weight) per channel; 'mismatch' is paid with an amount that differs from the line's, 'silent' is a
# line the payer does not report at all (still being processed).
BANK_OUTCOMES = (
    ("paid", 0.88),
    ("mismatch", 0.03),
    ("account_problem", 0.04),
    ("not_found", 0.02),
    ("deceased_without_heir", 0.015),
    ("silent", 0.015),
)
POS_OUTCOMES = (
    ("paid", 0.84),
    ("mismatch", 0.02),
    ("not_collected", 0.08),
    ("not_found", 0.03),
    ("deceased_without_heir", 0.02),
    ("silent", 0.01),
)


@dataclass(frozen=True)
class PayerReports:
    """A bank and a Pos report for one tahap, and what they say, line by line."""

    bank_csv: str
    pos_csv: str
    outcome_by_line: dict[int, str]
    channel_by_line: dict[int, str]

    def counts(self) -> dict[str, int]:
        """Lines per outcome (paid, mismatch, silent, or the failure reason)."""
        out: dict[str, int] = {}
        for outcome in self.outcome_by_line.values():
            out[outcome] = out.get(outcome, 0) + 1
        return dict(sorted(out.items()))


def payer_reports(
    lines: Sequence[dict[str, object]], *, seed: int, paid_on: date, keys: dict[str, str] | None = None
) -> PayerReports:
    """Bank and Pos reports with realistic outcomes for the payment lines of a tahap (as the API lists them:
    line_id, household_id, amount). Outcomes are drawn per family from `keys[household_id]` (a stable key such as
    a hash of the No. KK; default the household id), so the same city and seed give the same outcomes whatever
    ids the database handed out."""
    rows: dict[str, list[tuple[str, ...]]] = {"bank": [], "pos": []}
    outcome_by_line: dict[int, str] = {}
    channel_by_line: dict[int, str] = {}
    for line in sorted(lines, key=lambda x: int(str(x["line_id"]))):
        line_id, household, amount = int(str(line["line_id"])), str(line["household_id"]), int(str(line["amount"]))
        key = (keys or {}).get(household, household)
        rng = random.Random(f"{seed}:payer:{key}")
        channel = "pos" if rng.random() < POS_SHARE else "bank"
        table = POS_OUTCOMES if channel == "pos" else BANK_OUTCOMES
        outcome = rng.choices([o for o, _ in table], weights=[w for _, w in table])[0]
        outcome_by_line[line_id] = outcome
        channel_by_line[line_id] = channel
        day = (paid_on + timedelta(days=rng.randint(0, 9))).isoformat()
        ref = f"{'POS' if channel == 'pos' else 'BRI'}-{paid_on:%Y%m%d}-{line_id:07d}"
        if outcome == "silent":
            continue
        if outcome == "paid":
            rows[channel].append((str(line_id), "paid", str(amount), day, ref, ""))
        elif outcome == "mismatch":
            wrong = max(0, amount - rng.choice((50_000, 100_000, 200_000)))
            rows[channel].append((str(line_id), "paid", str(wrong), day, ref, ""))
        else:
            rows[channel].append((str(line_id), "failed", str(amount), day, ref, outcome))

    def text(channel: str) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(PAYER_REPORT_COLUMNS)
        w.writerows(rows[channel])
        return buf.getvalue()

    return PayerReports(
        bank_csv=text("bank"), pos_csv=text("pos"), outcome_by_line=outcome_by_line, channel_by_line=channel_by_line
    )


# --- A city with the defects of issue 12 planted at audit rates, and the ground truth of what was planted ---

RATE_PLANTED = 0.005  # per family and per planter


@dataclass(frozen=True)
class Planted:
    """One planted defect: where (file, row), whose, and what the import must do with it: `queued:<rule>`
    (a correction-queue entry with that rule), `flagged:<kind>` (an open flag on the member), `collapsed`."""

    kind: str
    file: str
    row_no: int
    no_kk: str
    nik: str
    expect: str
    # the other family of a duplicate NIK (its No. KK)
    other_no_kk: str | None = None


@dataclass
class _Rows:
    """A family's extract rows as written, each with whether it is a defect (else a valid person)."""

    no_kk: str
    rows: list[list[str]]
    defect: list[Planted | None]


Planter = Callable[[random.Random, _Rows, "_PlantContext"], None]


@dataclass
class _PlantContext:
    """What planters share: the previous family when it was registered clean (else None), the NIKs already used."""

    previous: _Rows | None = None
    used: set[str] = field(default_factory=set)


_NIK, _NAMA, _HUB = EXTRACT_COLUMNS.index("nik"), EXTRACT_COLUMNS.index("nama"), EXTRACT_COLUMNS.index("hubungan")


def _mark(fam: _Rows, i: int, kind: str, nik: str, expect: str, other: str | None = None) -> None:
    fam.defect[i] = Planted(kind, "", 0, fam.no_kk, nik, expect, other)


def _bad_nik(kind: str, change: Callable[[str], str], expect: str) -> Planter:
    def plant(rng: random.Random, fam: _Rows, ctx: _PlantContext) -> None:
        i = rng.randrange(len(fam.rows))
        bad = change(fam.rows[i][_NIK])
        if bad in ctx.used or fam.defect[i] is not None:
            return
        ctx.used.add(bad)
        fam.rows[i][_NIK] = bad
        _mark(fam, i, kind, bad, expect)

    return plant


def _duplicate_in_file(rng: random.Random, fam: _Rows, ctx: _PlantContext) -> None:
    prev = ctx.previous
    if prev is None or len(prev.rows) < 2:
        return
    j = rng.randrange(1, len(prev.rows))
    copy = [*prev.rows[j]]
    copy[:5] = fam.rows[0][:5]
    copy[-2:] = fam.rows[0][-2:]
    copy[_HUB] = "famili_lain"
    fam.rows.append(copy)
    fam.defect.append(
        Planted("duplicate_nik_in_file", "", 0, fam.no_kk, copy[_NIK], "queued:nik.duplicate", prev.no_kk)
    )


def _extra_fields(rng: random.Random, fam: _Rows, ctx: _PlantContext) -> None:
    i = rng.randrange(len(fam.rows))
    if fam.defect[i] is None and fam.rows[i][_HUB] != "kepala_keluarga":
        fam.rows[i] = [*fam.rows[i], "glued"]
        _mark(fam, i, "extra_fields", fam.rows[i][_NIK], "queued:row.too_many_fields")


def _kk_copy(identical: bool) -> Planter:
    def plant(rng: random.Random, fam: _Rows, ctx: _PlantContext) -> None:
        if any(d is not None for d in fam.defect):
            return
        copy = [[*r] for r in fam.rows]
        if not identical:
            copy[0][_NAMA] = copy[0][_NAMA] + " Bin Ali"
        for r in copy:
            fam.rows.append(r)
            expect = "collapsed" if identical else "queued:no_kk.conflicting_copy"
            fam.defect.append(
                Planted("kk_identical_copy" if identical else "kk_conflicting_copy", "", 0, fam.no_kk, r[_NIK], expect)
            )

    return plant


# The planters, each drawn per family with RATE_PLANTED. Another kind of defect is one more entry here.
PLANTERS: tuple[tuple[str, Planter], ...] = (
    ("short_nik", _bad_nik("short_nik", lambda n: n[:15], "queued:nik.not_16_digits")),
    ("letters_nik", _bad_nik("letters_nik", lambda n: n[:10] + "AB" + n[12:], "queued:nik.not_16_digits")),
    ("zero_serial_nik", _bad_nik("zero_serial_nik", lambda n: n[:12] + "0000", "flagged:invalid_nik")),
    (
        "bad_date_nik",
        _bad_nik("bad_date_nik", lambda n: f"{n[:8]}{int(n[8:10]) + 12:02d}{n[10:]}", "flagged:invalid_nik"),
    ),
    ("bad_region_nik", _bad_nik("bad_region_nik", lambda n: "137199" + n[6:], "flagged:invalid_nik")),
    ("duplicate_nik_in_file", _duplicate_in_file),
    ("extra_fields", _extra_fields),
    ("kk_identical_copy", _kk_copy(True)),
    ("kk_conflicting_copy", _kk_copy(False)),
)


@dataclass(frozen=True)
class DefectCity:
    """The files of a defect city and its ground truth (also written to ground_truth.json)."""

    extract: Path
    second_extract: Path
    ground_truth: Path
    valid: tuple[tuple[str, str], ...]
    planted: tuple[Planted, ...]


def generate_defect_city(out: Path, *, families_count: int, seed: int, rate: float = RATE_PLANTED) -> DefectCity:
    """extract.csv with the planters' defects, extract_second.csv (new families, some listing a person the first
    import registered in another family: a duplicate against the registry) and ground_truth.json: every valid
    person (No. KK, NIK) and every planted defect with the file row and what the import must do with it."""
    out.mkdir(parents=True, exist_ok=True)
    period = "2026-Q3"
    valid: list[tuple[str, str]] = []
    planted: list[Planted] = []
    ctx = _PlantContext()
    first_rows: list[_Rows] = []

    def write(path: Path, fams: Iterator[_Rows], name: str) -> None:
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(EXTRACT_COLUMNS)
            row_no = 1
            for fam in fams:
                for r, d in zip(fam.rows, fam.defect, strict=True):
                    row_no += 1
                    w.writerow(r)
                    if d is None:
                        valid.append((fam.no_kk, r[_NIK]))
                    else:
                        planted.append(replace(d, file=name, row_no=row_no))

    def first_file() -> Iterator[_Rows]:
        for i, hh in enumerate(families(families_count, seed, period=period, plant=False)):
            rows = [_extract_row(hh, m, period) for m in hh.members]
            fam = _Rows(hh.no_kk, rows, [None] * len(rows))
            clean = _Rows(fam.no_kk, [[*r] for r in rows], [None] * len(rows))
            rng = random.Random(f"{seed}:planted:{i}")
            for _, planter in PLANTERS:
                if rng.random() < rate:
                    planter(rng, fam, ctx)
            # Only a family registered with every member valid can be the other family of a duplicate: copying a
            # person whose own row is bad, or whose No. KK is queued as a conflicting copy, plants no duplicate.
            registered_clean = all(d is None or d.kind == "kk_identical_copy" for d in fam.defect)
            ctx.previous = clean if registered_clean else None
            if len(first_rows) < 2000 and all(d is None for d in fam.defect):
                first_rows.append(clean)
            yield fam

    def second_file() -> Iterator[_Rows]:
        rng = random.Random(f"{seed}:second")
        extra = max(10, families_count // 50)
        for k, hh in enumerate(families(families_count + extra, seed, period=period, plant=False)):
            if k < families_count:
                continue
            rows = [_extract_row(hh, m, period) for m in hh.members]
            fam = _Rows(hh.no_kk, rows, [None] * len(rows))
            donor = first_rows[rng.randrange(len(first_rows))] if first_rows else None
            if donor is not None and len(donor.rows) >= 2 and rng.random() < 0.5:
                copy = [*donor.rows[-1]]
                copy[:5] = rows[0][:5]
                copy[-2:] = rows[0][-2:]
                copy[_HUB] = "famili_lain"
                fam.rows.append(copy)
                fam.defect.append(
                    Planted("duplicate_nik_registry", "", 0, fam.no_kk, copy[_NIK], "queued:nik.duplicate", donor.no_kk)
                )
            yield fam

    extract, second = out / "extract.csv", out / "extract_second.csv"
    write(extract, first_file(), "extract.csv")
    write(second, second_file(), "extract_second.csv")
    truth = out / "ground_truth.json"
    truth.write_text(json.dumps({"valid": valid, "planted": [asdict(p) for p in planted]}, indent=1), encoding="utf-8")
    return DefectCity(extract, second, truth, tuple(valid), tuple(planted))
