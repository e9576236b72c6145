"""Unit tests for NIK, No. KK, RT/RW, masking and wilayah code rules (DOMAIN §6)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from services.registry.domain.identifiers import (
    PROVINCE_CODES,
    IdentifierError,
    KkInfo,
    NikInfo,
    kecamatan_code_from_region,
    kecamatan_of,
    nik_sex_mismatch,
    parse_wilayah_code,
    resolve_two_digit_year,
    validate_nik,
    validate_no_kk,
    validate_rt_rw,
)
from services.registry.domain.wilayah import load_wilayah
from shared.privacy.identifiers import mask_identifier

TODAY = date(2026, 3, 10)

# Digits that str.isdigit() accepts but a NIK must not contain.
FULLWIDTH_DIGITS = {ord("0") + digit: 0xFF10 + digit for digit in range(10)}
ARABIC_INDIC_DIGITS = {ord("0") + digit: 0x0660 + digit for digit in range(10)}


def make_nik(region: str = "137101", day: str = "15", month: str = "05", yy: str = "90", serial: str = "0012") -> str:
    """A NIK assembled from its parts, so each test changes exactly one part."""
    return region + day + month + yy + serial


def nik_error(nik: str, today: date = TODAY) -> str:
    with pytest.raises(IdentifierError) as caught:
        validate_nik(nik, today=today)
    return caught.value.field_reason


def kk_error(no_kk: str, today: date = TODAY) -> str:
    with pytest.raises(IdentifierError) as caught:
        validate_no_kk(no_kk, today=today)
    return caught.value.field_reason


# --- NIK: a valid one and what it says ---------------------------------------------------------------


def test_valid_male_nik_is_decoded() -> None:
    info = validate_nik("1371011505900012", today=TODAY)

    assert info == NikInfo(
        nik="1371011505900012",
        province_code="13",
        kabkota_code="1371",
        kecamatan_code="137101",
        kecamatan_wilayah_code="13.71.01",
        birth_date=date(1990, 5, 15),
        sex="L",
        serial="0012",
    )


def test_valid_female_nik_has_day_minus_40_and_sex_p() -> None:
    info = validate_nik(make_nik(region="137111", day="55"), today=TODAY)

    assert info.birth_date == date(1990, 5, 15)
    assert info.sex == "P"
    assert info.kecamatan_wilayah_code == "13.71.11"


def test_nik_repr_masks_the_nik_and_hides_birth_date() -> None:
    text = repr(validate_nik("1371011505900012", today=TODAY))

    assert "1371011505900012" not in text
    assert "1990" not in text
    assert "1371••••••••0012" in text


def test_nik_is_checked_against_real_today_when_not_given() -> None:
    assert validate_nik(make_nik(yy="90")).birth_date == date(1990, 5, 15)


# --- NIK: day, month, date ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "month", "expected_date", "expected_sex"),
    [
        ("01", "01", date(1990, 1, 1), "L"),
        ("31", "01", date(1990, 1, 31), "L"),
        ("41", "01", date(1990, 1, 1), "P"),
        ("71", "01", date(1990, 1, 31), "P"),
        ("70", "12", date(1990, 12, 30), "P"),
    ],
)
def test_day_ranges_for_men_and_women(day: str, month: str, expected_date: date, expected_sex: str) -> None:
    info = validate_nik(make_nik(day=day, month=month), today=TODAY)

    assert info.birth_date == expected_date
    assert info.sex == expected_sex


@pytest.mark.parametrize("day", ["00", "32", "35", "40", "72", "80", "99"])
def test_day_outside_both_ranges_is_rejected(day: str) -> None:
    assert nik_error(make_nik(day=day)) == "nik.bad_day"


@pytest.mark.parametrize("month", ["00", "13", "20", "99"])
def test_month_outside_1_to_12_is_rejected(month: str) -> None:
    assert nik_error(make_nik(month=month)) == "nik.bad_month"


@pytest.mark.parametrize(
    ("day", "month"),
    [("31", "04"), ("71", "04"), ("30", "02"), ("70", "02"), ("31", "06"), ("31", "09"), ("31", "11")],
)
def test_day_that_does_not_exist_in_the_month_is_rejected(day: str, month: str) -> None:
    assert nik_error(make_nik(day=day, month=month)) == "nik.bad_date"


def test_29_february_2000_is_valid_because_2000_is_a_leap_year() -> None:
    info = validate_nik(make_nik(day="29", month="02", yy="00"), today=TODAY)

    assert info.birth_date == date(2000, 2, 29)


def test_29_february_2000_for_a_woman_is_valid() -> None:
    info = validate_nik(make_nik(day="69", month="02", yy="00"), today=TODAY)

    assert (info.birth_date, info.sex) == (date(2000, 2, 29), "P")


@pytest.mark.parametrize("day", ["29", "69"])
def test_29_february_2001_is_rejected(day: str) -> None:
    assert nik_error(make_nik(day=day, month="02", yy="01")) == "nik.bad_date"


def test_29_february_1996_is_valid_in_the_previous_century_too() -> None:
    assert validate_nik(make_nik(day="29", month="02", yy="96"), today=TODAY).birth_date == date(1996, 2, 29)


def test_29_february_00_means_1900_when_today_is_in_the_1900s_and_is_rejected() -> None:
    # 1900 is divisible by 100 but not by 400, so it has no 29 February.
    assert nik_error(make_nik(day="29", month="02", yy="00"), today=date(1999, 12, 31)) == "nik.bad_date"


def test_29_february_00_means_2100_in_the_2100s_and_is_rejected() -> None:
    assert nik_error(make_nik(day="29", month="02", yy="00"), today=date(2100, 3, 1)) == "nik.bad_date"


@pytest.mark.parametrize(
    ("yy", "today", "year"),
    [
        (0, TODAY, 2000),
        (25, TODAY, 2025),
        (26, TODAY, 2026),
        (27, TODAY, 1927),
        (99, TODAY, 1999),
        (0, date(1999, 12, 31), 1900),
        (99, date(1999, 12, 31), 1999),
        (0, date(2100, 1, 1), 2100),
        (1, date(2100, 1, 1), 2001),
    ],
)
def test_two_digit_year_is_this_century_up_to_today_else_the_previous(yy: int, today: date, year: int) -> None:
    assert resolve_two_digit_year(yy, today) == year


def test_year_after_todays_two_digits_is_read_as_19yy() -> None:
    assert validate_nik(make_nik(yy="27"), today=TODAY).birth_date == date(1927, 5, 15)


def test_birth_date_later_this_year_is_in_the_future() -> None:
    assert nik_error(make_nik(day="11", month="03", yy="26")) == "nik.future_birth_date"


def test_female_birth_date_in_the_future_is_rejected() -> None:
    assert nik_error(make_nik(day="41", month="12", yy="26")) == "nik.future_birth_date"


def test_born_today_is_not_in_the_future() -> None:
    assert validate_nik(make_nik(day="10", month="03", yy="26"), today=TODAY).birth_date == TODAY


# --- NIK: serial, province, region, format -----------------------------------------------------------


def test_serial_0000_is_rejected() -> None:
    assert nik_error(make_nik(serial="0000")) == "nik.serial_zero"


@pytest.mark.parametrize("serial", ["0001", "0100", "9999"])
def test_serial_0001_to_9999_is_accepted(serial: str) -> None:
    assert validate_nik(make_nik(serial=serial), today=TODAY).serial == serial


@pytest.mark.parametrize(
    "province", ["00", "10", "20", "22", "30", "37", "50", "54", "60", "66", "77", "83", "90", "98", "99"]
)
def test_unknown_province_is_rejected(province: str) -> None:
    assert nik_error(make_nik(region=province + "0101")) == "nik.bad_province"


@pytest.mark.parametrize(
    "province",
    ["11", "13", "19", "21", "31", "36", "51", "53", "61", "65", "71", "76", "81", "82", "91", "97"],
)
def test_real_province_outside_padang_is_accepted(province: str) -> None:
    assert validate_nik(make_nik(region=province + "0101"), today=TODAY).province_code == province


def test_province_set_matches_the_kepmendagri_ranges() -> None:
    expected = {
        11,
        12,
        13,
        14,
        15,
        16,
        17,
        18,
        19,
        21,
        31,
        32,
        33,
        34,
        35,
        36,
        51,
        52,
        53,
        61,
        62,
        63,
        64,
        65,
    }
    expected |= {71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 93, 94, 95, 96, 97}

    assert {f"{code:02d}" for code in expected} == PROVINCE_CODES


@pytest.mark.parametrize("region", ["130001", "130100", "137100", "327300"])
def test_kabkota_or_kecamatan_00_is_rejected(region: str) -> None:
    assert nik_error(make_nik(region=region)) == "nik.bad_region"


@pytest.mark.parametrize("region", ["137112", "137120", "137199"])
def test_padang_prefix_with_kecamatan_missing_from_wilayah_is_rejected(region: str) -> None:
    assert nik_error(make_nik(region=region)) == "nik.bad_region"


@pytest.mark.parametrize("kecamatan", [f"{number:02d}" for number in range(1, 12)])
def test_every_padang_kecamatan_is_accepted(kecamatan: str) -> None:
    info = validate_nik(make_nik(region="1371" + kecamatan), today=TODAY)

    assert info.kecamatan_wilayah_code == f"13.71.{kecamatan}"


@pytest.mark.parametrize("region", ["130112", "327350", "317199"])
def test_kecamatan_outside_the_reference_is_only_checked_for_00(region: str) -> None:
    # The NIK region is where the person was first registered, which may be anywhere in Indonesia.
    assert validate_nik(make_nik(region=region), today=TODAY).kecamatan_code == region


def test_kecamatan_check_uses_the_given_reference(tmp_path: Path) -> None:
    csv_path = tmp_path / "wilayah.csv"
    csv_path.write_text(
        "kode,nama,tingkat,kode_bps,alias\n"
        "13,Sumatera Barat,provinsi,,\n"
        "13.05,Kabupaten Uji,kabupaten,,\n"
        "13.05.01,Kecamatan Uji,kecamatan,,\n",
        encoding="utf-8",
    )
    reference = load_wilayah(csv_path)

    assert validate_nik(make_nik(region="130501"), today=TODAY, wilayah=reference).kabkota_code == "1305"
    with pytest.raises(IdentifierError, match="does not exist") as caught:
        validate_nik(make_nik(region="130502"), today=TODAY, wilayah=reference)
    assert caught.value.field_reason == "nik.bad_region"
    # Padang is not in this reference, so its kecamatan cannot be checked against it.
    assert validate_nik(make_nik(region="137112"), today=TODAY, wilayah=reference).kecamatan_code == "137112"


@pytest.mark.parametrize(
    "nik",
    [
        "",
        "137101150590001",  # 15 digits
        "13710115059000120",  # 17 digits
        "13710115059000a2",
        "1371 0115 0590 0012",
        "1371-01-150590-0012",
        " 1371011505900012",
        "1371011505900012\n",
        "1371011505900012".translate(FULLWIDTH_DIGITS),
        "1371011505900012".translate(ARABIC_INDIC_DIGITS),
    ],
)
def test_anything_but_16_ascii_digits_is_rejected(nik: str) -> None:
    assert nik_error(nik) == "nik.not_16_digits"


def test_error_is_a_value_error_with_code_field_and_message_without_the_nik() -> None:
    nik = make_nik(month="13")
    with pytest.raises(ValueError, match="month") as caught:
        validate_nik(nik, today=TODAY)

    error = caught.value
    assert isinstance(error, IdentifierError)
    assert error.field_reason == "nik.bad_month"
    assert error.field == "nik"
    assert nik not in str(error)


# --- sex mismatch --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "declared", "mismatch"),
    [
        ("15", "L", False),
        ("15", "P", True),
        ("55", "P", False),
        ("55", "L", True),
        ("55", "l", True),
        ("55", "p", False),
        ("55", None, False),
        ("15", "", False),
    ],
)
def test_declared_sex_contradicting_the_nik_is_a_mismatch(day: str, declared: str | None, mismatch: bool) -> None:
    info = validate_nik(make_nik(day=day), today=TODAY)

    assert nik_sex_mismatch(info, declared) is mismatch


def test_declared_sex_outside_l_and_p_is_a_programming_error() -> None:
    info = validate_nik(make_nik(), today=TODAY)

    with pytest.raises(ValueError, match="'L' or 'P'"):
        nik_sex_mismatch(info, "M")


# --- No. KK --------------------------------------------------------------------------------------------


def test_valid_padang_no_kk_is_decoded() -> None:
    assert validate_no_kk("1371102003150007", today=TODAY) == KkInfo(
        no_kk="1371102003150007",
        province_code="13",
        kabkota_code="1371",
        kecamatan_code="137110",
        kecamatan_wilayah_code="13.71.10",
        issue_date=date(2015, 3, 20),
        serial="0007",
    )


def test_no_kk_issued_outside_padang_is_accepted() -> None:
    assert validate_no_kk("3273011203200005", today=TODAY).kecamatan_wilayah_code == "32.73.01"


def test_no_kk_repr_is_masked() -> None:
    assert "1371102003150007" not in repr(validate_no_kk("1371102003150007", today=TODAY))


@pytest.mark.parametrize(
    ("no_kk", "code"),
    [
        ("137110200315000", "no_kk.not_16_digits"),
        ("13711020031500070", "no_kk.not_16_digits"),
        ("137110200315000x", "no_kk.not_16_digits"),
        ("2071102003150007", "no_kk.bad_province"),
        ("9971102003150007", "no_kk.bad_province"),
        ("1300102003150007", "no_kk.bad_region"),
        ("1371002003150007", "no_kk.bad_region"),
        ("1371122003150007", "no_kk.bad_region"),
        ("1371100003150007", "no_kk.bad_day"),
        ("1371103203150007", "no_kk.bad_day"),
        ("1371104103150007", "no_kk.bad_day"),  # no +40 rule on a KK
        ("1371102000150007", "no_kk.bad_month"),
        ("1371102013150007", "no_kk.bad_month"),
        ("1371102902010007", "no_kk.bad_date"),
        ("1371103104150007", "no_kk.bad_date"),
        ("1371101103260007", "no_kk.future_issue_date"),
        ("1371102003150000", "no_kk.serial_zero"),
    ],
)
def test_no_kk_rules(no_kk: str, code: str) -> None:
    assert kk_error(no_kk) == code


def test_no_kk_issued_29_february_2004_is_valid() -> None:
    assert validate_no_kk("1371102902040001", today=TODAY).issue_date == date(2004, 2, 29)


def test_no_kk_issued_today_is_valid() -> None:
    assert validate_no_kk("1371101003260001", today=TODAY).issue_date == TODAY


# --- RT / RW -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "padded"),
    [
        ("1", "001"),
        ("7", "007"),
        ("12", "012"),
        ("01", "001"),
        ("001", "001"),
        ("100", "100"),
        ("999", "999"),
    ],
)
@pytest.mark.parametrize("field", ["rt", "rw"])
def test_rt_rw_is_zero_padded_to_three_digits(value: str, padded: str, field: str) -> None:
    assert validate_rt_rw(value, field) == padded


@pytest.mark.parametrize(
    "value",
    [
        "",
        "0",
        "00",
        "000",
        "1000",
        "0001",
        "1a",
        "-1",
        "+1",
        "1.0",
        " 1",
        "1 ",
        "1".translate(FULLWIDTH_DIGITS),
        "3".translate(ARABIC_INDIC_DIGITS),
        "I",
    ],
)
@pytest.mark.parametrize("field", ["rt", "rw"])
def test_invalid_rt_rw_is_rejected_with_the_field_in_the_code(value: str, field: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        validate_rt_rw(value, field)

    assert caught.value.field_reason == f"{field}.invalid"


def test_rt_rw_field_name_must_be_rt_or_rw() -> None:
    with pytest.raises(ValueError, match="'rt' or 'rw'") as caught:
        validate_rt_rw("1", "kk")

    assert not isinstance(caught.value, IdentifierError)


# --- masking -------------------------------------------------------------------------------------------


def test_nik_is_masked_keeping_first_and_last_four() -> None:
    assert mask_identifier("1371015505900012") == "1371••••••••0012"


def test_masking_keeps_the_length_and_hides_the_birth_date() -> None:
    masked = mask_identifier("1371102003150007")

    assert len(masked) == 16
    assert "200315" not in masked
    assert masked.count("•") == 8


def test_value_of_nine_characters_keeps_four_and_four() -> None:
    assert mask_identifier("123456789") == "1234•6789"


@pytest.mark.parametrize("value", ["", "1", "1234", "12345678"])
def test_short_value_is_masked_completely(value: str) -> None:
    assert mask_identifier(value) == "•" * len(value)


# --- wilayah codes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "tingkat", "parent"),
    [
        ("13", "provinsi", None),
        ("13.71", "kota", "13"),
        ("13.99", "kota", "13"),
        ("13.01", "kabupaten", "13"),
        ("13.70", "kabupaten", "13"),
        ("13.71.01", "kecamatan", "13.71"),
        ("13.71.01.1001", "kelurahan", "13.71.01"),
        ("13.71.11.1999", "kelurahan", "13.71.11"),
        ("13.05.01.2001", "desa", "13.05.01"),
    ],
)
def test_wilayah_code_level_and_parent(code: str, tingkat: str, parent: str | None) -> None:
    parsed = parse_wilayah_code(code)

    assert parsed.code == code
    assert parsed.tingkat == tingkat
    assert parsed.parent == parent


def test_wilayah_code_parts_are_split() -> None:
    parsed = parse_wilayah_code("13.71.10.1004")

    assert (parsed.province, parsed.kabkota, parsed.kecamatan, parsed.village) == ("13", "71", "10", "1004")


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("", "wilayah.bad_format"),
        ("1", "wilayah.bad_format"),
        ("137101", "wilayah.bad_format"),
        ("13.7", "wilayah.bad_format"),
        ("13.71.1", "wilayah.bad_format"),
        ("13.71.", "wilayah.bad_format"),
        ("13-71", "wilayah.bad_format"),
        (" 13.71", "wilayah.bad_format"),
        ("13.71.01.101", "wilayah.bad_format"),
        ("13.71.01.10011", "wilayah.bad_format"),
        ("20", "wilayah.bad_province"),
        ("99.71", "wilayah.bad_province"),
        ("13.00", "wilayah.bad_region"),
        ("13.71.00", "wilayah.bad_region"),
        ("13.71.01.0001", "wilayah.bad_village"),
        ("13.71.01.3001", "wilayah.bad_village"),
        ("13.71.01.1000", "wilayah.bad_village"),
        ("13.71.01.2000", "wilayah.bad_village"),
    ],
)
def test_invalid_wilayah_code_is_rejected(code: str, reason: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_wilayah_code(code)

    assert caught.value.field_reason == reason


@pytest.mark.parametrize(
    ("kelurahan", "kecamatan"),
    [("13.71.10.1004", "13.71.10"), ("13.71.06.1006", "13.71.06"), ("13.05.01.2001", "13.05.01")],
)
def test_kecamatan_of_kelurahan(kelurahan: str, kecamatan: str) -> None:
    assert kecamatan_of(kelurahan) == kecamatan


@pytest.mark.parametrize(
    ("code", "reason"), [("13.71.10", "wilayah.not_village"), ("13.71.10.0004", "wilayah.bad_village")]
)
def test_kecamatan_of_needs_a_village_code(code: str, reason: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        kecamatan_of(code)

    assert caught.value.field_reason == reason


@pytest.mark.parametrize(("region", "code"), [("137101", "13.71.01"), ("137111", "13.71.11"), ("327301", "32.73.01")])
def test_nik_region_to_dotted_kecamatan_code(region: str, code: str) -> None:
    assert kecamatan_code_from_region(region) == code


@pytest.mark.parametrize(
    ("region", "reason"),
    [
        ("13710", "wilayah.bad_format"),
        ("1371011", "wilayah.bad_format"),
        ("13710a", "wilayah.bad_format"),
        ("137100", "wilayah.bad_region"),
        ("207101", "wilayah.bad_province"),
    ],
)
def test_bad_nik_region_is_rejected(region: str, reason: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        kecamatan_code_from_region(region)

    assert caught.value.field_reason == reason


def test_nik_kecamatan_code_agrees_with_region_conversion() -> None:
    info = validate_nik(make_nik(region="137110"), today=TODAY)

    assert kecamatan_code_from_region(info.kecamatan_code) == info.kecamatan_wilayah_code == "13.71.10"
