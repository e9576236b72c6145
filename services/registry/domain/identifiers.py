"""The identifier rules of `shared/identifiers.py`, with NIK and No. KK regions checked against the city's wilayah
reference unless the caller passes another."""

from __future__ import annotations

from datetime import date

from shared import identifiers as rules
from shared.identifiers import (
    FEMALE_DAY_OFFSET,
    PROVINCE_CODES,
    WIB,
    IdentifierError,
    KkInfo,
    NikInfo,
    Sex,
    Tingkat,
    WilayahCode,
    WilayahReference,
    kecamatan_code_from_region,
    kecamatan_of,
    nik_sex_mismatch,
    parse_wilayah_code,
    resolve_two_digit_year,
    today_wib,
    validate_rt_rw,
)

__all__ = [
    "FEMALE_DAY_OFFSET",
    "PROVINCE_CODES",
    "WIB",
    "IdentifierError",
    "KkInfo",
    "NikInfo",
    "Sex",
    "Tingkat",
    "WilayahCode",
    "kecamatan_code_from_region",
    "kecamatan_of",
    "nik_sex_mismatch",
    "parse_wilayah_code",
    "resolve_two_digit_year",
    "today_wib",
    "validate_nik",
    "validate_no_kk",
    "validate_rt_rw",
]


def _reference(wilayah: WilayahReference | None) -> WilayahReference:
    if wilayah is not None:
        return wilayah
    # Imported here because the reference loader itself uses parse_wilayah_code from the identifier rules.
    from services.registry.domain.wilayah import default_wilayah

    return default_wilayah()


def validate_nik(nik: str, *, today: date | None = None, wilayah: WilayahReference | None = None) -> NikInfo:
    """Check a NIK against DOMAIN §6 (its kecamatan against the wilayah reference) and return what it encodes."""
    return rules.validate_nik(nik, today=today, wilayah=_reference(wilayah))


def validate_no_kk(no_kk: str, *, today: date | None = None, wilayah: WilayahReference | None = None) -> KkInfo:
    """Check a No. KK against DOMAIN §6 (its kecamatan against the wilayah reference) and return what it encodes."""
    return rules.validate_no_kk(no_kk, today=today, wilayah=_reference(wilayah))
