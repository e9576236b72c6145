"""Rules for Indonesian identifiers: NIK, No. KK, RT/RW and wilayah codes (DOMAIN §6)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from services.registry.domain.wilayah import WilayahReference

# Province codes per Kepmendagri 300.2.2-2138/2025 (kode dan data wilayah administrasi pemerintahan);
# 91-97 are the Papua provinces after the 2022 split. Kept as data so a new province is a one-line change.
PROVINCE_CODES: frozenset[str] = frozenset(
    f"{code:02d}"
    for code in (
        *range(11, 20),
        21,
        *range(31, 37),
        *range(51, 54),
        *range(61, 66),
        *range(71, 77),
        81,
        82,
        *range(91, 98),
    )
)

# Women's NIKs carry the birth day plus 40, so one field encodes both day and sex.
FEMALE_DAY_OFFSET = 40

# Padang is on WIB (UTC+7, no daylight saving); a UTC clock would lag a day behind Padang each morning.
WIB = timezone(timedelta(hours=7))

MASK_CHAR = "•"

_LABEL = {"nik": "NIK", "no_kk": "No. KK"}

Sex = Literal["L", "P"]
Tingkat = Literal["provinsi", "kabupaten", "kota", "kecamatan", "kelurahan", "desa"]

_SIXTEEN_DIGITS = re.compile(r"[0-9]{16}")
_RT_RW = re.compile(r"[0-9]{1,3}")
_WILAYAH_CODE = re.compile(r"([0-9]{2})(?:\.([0-9]{2})(?:\.([0-9]{2})(?:\.([0-9]{4}))?)?)?")


class IdentifierError(ValueError):
    """An identifier failed a rule; `field_reason` is a machine code such as `nik.bad_month`."""

    def __init__(self, field_reason: str, message: str) -> None:
        super().__init__(message)
        self.field_reason = field_reason
        self.message = message

    @property
    def field(self) -> str:
        """The field part of the code (`nik`, `no_kk`, `rt`, `rw`, `wilayah`)."""
        return self.field_reason.split(".", 1)[0]


@dataclass(frozen=True, repr=False)
class NikInfo:
    """What a valid NIK says about its holder."""

    nik: str
    province_code: str  # "13"
    kabkota_code: str  # "1371"
    kecamatan_code: str  # "137101", where the NIK was first issued, not the current address
    kecamatan_wilayah_code: str  # "13.71.01"
    birth_date: date
    sex: Sex
    serial: str  # "0012"

    def __repr__(self) -> str:
        # NIK and birth date are protected personal data (UU Adminduk art. 84): keep them out of logs.
        return f"NikInfo(nik={mask_identifier(self.nik)!r}, kecamatan={self.kecamatan_wilayah_code!r})"


@dataclass(frozen=True, repr=False)
class KkInfo:
    """What a valid No. KK says about the family card."""

    no_kk: str
    province_code: str
    kabkota_code: str
    kecamatan_code: str  # where the card was issued, possibly outside Padang
    kecamatan_wilayah_code: str
    issue_date: date
    serial: str

    def __repr__(self) -> str:
        return f"KkInfo(no_kk={mask_identifier(self.no_kk)!r}, kecamatan={self.kecamatan_wilayah_code!r})"


@dataclass(frozen=True)
class WilayahCode:
    """A parsed Kemendagri wilayah code `PP.KK.CC.DDDD` at any level."""

    code: str
    tingkat: Tingkat
    province: str
    kabkota: str | None = None
    kecamatan: str | None = None
    village: str | None = None

    @property
    def parent(self) -> str | None:
        """The code one level up, or None for a province."""
        if self.tingkat == "provinsi":
            return None
        return self.code.rsplit(".", 1)[0]


def today_wib() -> date:
    """Today's date in Padang."""
    return datetime.now(WIB).date()


def validate_nik(nik: str, *, today: date | None = None, wilayah: WilayahReference | None = None) -> NikInfo:
    """Check a NIK against DOMAIN §6 and return what it encodes; raise IdentifierError otherwise."""
    today = today or today_wib()
    if not _SIXTEEN_DIGITS.fullmatch(nik):
        raise IdentifierError("nik.not_16_digits", "NIK must be exactly 16 digits 0-9")
    province, kabkota, kecamatan = nik[0:2], nik[2:4], nik[4:6]
    day_code, month, yy, serial = int(nik[6:8]), int(nik[8:10]), int(nik[10:12]), nik[12:16]
    _check_region("nik", province, kabkota, kecamatan, wilayah)

    is_female = day_code > FEMALE_DAY_OFFSET
    day = day_code - FEMALE_DAY_OFFSET if is_female else day_code
    if not 1 <= day <= 31:
        raise IdentifierError("nik.bad_day", "NIK birth day must be 01-31 (men) or 41-71 (women)")
    birth_date = _encoded_date("nik", day, month, yy, today)
    if birth_date > today:
        raise IdentifierError("nik.future_birth_date", "NIK birth date is in the future")
    if serial == "0000":
        raise IdentifierError("nik.serial_zero", "NIK serial number must not be 0000")
    return NikInfo(
        nik=nik,
        province_code=province,
        kabkota_code=province + kabkota,
        kecamatan_code=nik[0:6],
        kecamatan_wilayah_code=f"{province}.{kabkota}.{kecamatan}",
        birth_date=birth_date,
        sex="P" if is_female else "L",
        serial=serial,
    )


def nik_sex_mismatch(nik_info: NikInfo, declared_sex: str | None) -> bool:
    """True when the declared sex ('L'/'P') contradicts the NIK; no declared sex is no contradiction."""
    if not declared_sex:
        return False
    declared = declared_sex.upper()
    if declared not in ("L", "P"):
        raise ValueError(f"declared sex must be 'L' or 'P', got {declared_sex!r}")
    return declared != nik_info.sex


def validate_no_kk(no_kk: str, *, today: date | None = None, wilayah: WilayahReference | None = None) -> KkInfo:
    """Check a No. KK against DOMAIN §6 and return what it encodes; raise IdentifierError otherwise."""
    today = today or today_wib()
    if not _SIXTEEN_DIGITS.fullmatch(no_kk):
        raise IdentifierError("no_kk.not_16_digits", "No. KK must be exactly 16 digits 0-9")
    province, kabkota, kecamatan = no_kk[0:2], no_kk[2:4], no_kk[4:6]
    day, month, yy, serial = int(no_kk[6:8]), int(no_kk[8:10]), int(no_kk[10:12]), no_kk[12:16]
    _check_region("no_kk", province, kabkota, kecamatan, wilayah)
    # Unlike the NIK, the issue date has no +40 for women: it dates the card, not a person.
    if not 1 <= day <= 31:
        raise IdentifierError("no_kk.bad_day", "No. KK issue day must be 01-31")
    issue_date = _encoded_date("no_kk", day, month, yy, today)
    if issue_date > today:
        raise IdentifierError("no_kk.future_issue_date", "No. KK issue date is in the future")
    if serial == "0000":
        raise IdentifierError("no_kk.serial_zero", "No. KK serial number must not be 0000")
    return KkInfo(
        no_kk=no_kk,
        province_code=province,
        kabkota_code=province + kabkota,
        kecamatan_code=no_kk[0:6],
        kecamatan_wilayah_code=f"{province}.{kabkota}.{kecamatan}",
        issue_date=issue_date,
        serial=serial,
    )


def validate_rt_rw(value: str, field: str) -> str:
    """Return an RT or RW number as a 3-digit string ('7' -> '007'); field is 'rt' or 'rw'."""
    if field not in ("rt", "rw"):
        raise ValueError(f"field must be 'rt' or 'rw', got {field!r}")
    if not _RT_RW.fullmatch(value) or int(value) == 0:
        raise IdentifierError(f"{field}.invalid", f"{field.upper()} must be a number from 1 to 999")
    return value.zfill(3)


def mask_identifier(value: str) -> str:
    """Hide the middle of a NIK or No. KK for display: '1371••••••••0012'."""
    if len(value) <= 8:
        # Keeping 4 + 4 characters of a short value would reveal all of it.
        return MASK_CHAR * len(value)
    return value[:4] + MASK_CHAR * (len(value) - 8) + value[-4:]


def resolve_two_digit_year(yy: int, today: date) -> int:
    """Full year of a 2-digit year: this century up to today's year, the previous century after it."""
    century = today.year - today.year % 100
    return century + yy if yy <= today.year % 100 else century - 100 + yy


def parse_wilayah_code(code: str) -> WilayahCode:
    """Parse a dotted Kemendagri code (`13`, `13.71`, `13.71.01`, `13.71.01.1001`); raise IdentifierError."""
    match = _WILAYAH_CODE.fullmatch(code)
    if match is None:
        raise IdentifierError("wilayah.bad_format", "wilayah code must look like 13, 13.71, 13.71.01 or 13.71.01.1001")
    province, kabkota, kecamatan, village = match.groups()
    if province not in PROVINCE_CODES:
        raise IdentifierError("wilayah.bad_province", "wilayah code has an unknown province")
    if kabkota is None:
        return WilayahCode(code=code, tingkat="provinsi", province=province)
    if kabkota == "00":
        raise IdentifierError("wilayah.bad_region", "wilayah kabupaten/kota part must not be 00")
    if kecamatan is None:
        tingkat: Tingkat = "kota" if int(kabkota) >= 71 else "kabupaten"
        return WilayahCode(code=code, tingkat=tingkat, province=province, kabkota=kabkota)
    if kecamatan == "00":
        raise IdentifierError("wilayah.bad_region", "wilayah kecamatan part must not be 00")
    if village is None:
        return WilayahCode(code=code, tingkat="kecamatan", province=province, kabkota=kabkota, kecamatan=kecamatan)
    if village[0] not in "12" or village[1:] == "000":
        raise IdentifierError("wilayah.bad_village", "village part must be 1001-1999 (kelurahan) or 2001-2999 (desa)")
    return WilayahCode(
        code=code,
        tingkat="kelurahan" if village[0] == "1" else "desa",
        province=province,
        kabkota=kabkota,
        kecamatan=kecamatan,
        village=village,
    )


def kecamatan_of(kelurahan_code: str) -> str:
    """The kecamatan code of a kelurahan or desa code ('13.71.10.1004' -> '13.71.10')."""
    parsed = parse_wilayah_code(kelurahan_code)
    if parsed.village is None:
        raise IdentifierError("wilayah.not_village", "expected a kelurahan or desa code (PP.KK.CC.DDDD)")
    return kelurahan_code[: -len(".DDDD")]


def kecamatan_code_from_region(region: str) -> str:
    """Dotted kecamatan code of a NIK's or No. KK's first 6 digits ('137101' -> '13.71.01')."""
    if not re.fullmatch(r"[0-9]{6}", region):
        raise IdentifierError("wilayah.bad_format", "a NIK region must be 6 digits")
    code = f"{region[0:2]}.{region[2:4]}.{region[4:6]}"
    parse_wilayah_code(code)
    return code


def _check_region(field: str, province: str, kabkota: str, kecamatan: str, wilayah: WilayahReference | None) -> None:
    if province not in PROVINCE_CODES:
        raise IdentifierError(f"{field}.bad_province", f"{_LABEL[field]} starts with an unknown province code")
    if kabkota == "00" or kecamatan == "00":
        raise IdentifierError(f"{field}.bad_region", f"{_LABEL[field]} kabupaten/kota and kecamatan must not be 00")
    known = _known_kecamatan(f"{province}.{kabkota}", wilayah)
    if known is not None and f"{province}.{kabkota}.{kecamatan}" not in known:
        raise IdentifierError(f"{field}.bad_region", f"{_LABEL[field]} names a kecamatan that does not exist")


def _known_kecamatan(kota_code: str, wilayah: WilayahReference | None) -> frozenset[str] | None:
    # Only kota/kabupaten covered by the reference (Padang today) can be checked; others pass on prefix rules.
    if wilayah is None:
        # Imported here because the reference loader itself uses parse_wilayah_code from this module.
        from services.registry.domain.wilayah import default_wilayah

        wilayah = default_wilayah()
    if kota_code not in wilayah:
        return None
    return frozenset(wilayah.kecamatan_codes_of_kota(kota_code))


def _encoded_date(field: str, day: int, month: int, yy: int, today: date) -> date:
    if not 1 <= month <= 12:
        raise IdentifierError(f"{field}.bad_month", f"{_LABEL[field]} month must be 01-12")
    try:
        return date(resolve_two_digit_year(yy, today), month, day)
    except ValueError:
        raise IdentifierError(f"{field}.bad_date", f"{_LABEL[field]} encodes a date that does not exist") from None
