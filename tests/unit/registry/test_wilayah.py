"""Unit tests for the packaged wilayah reference and its loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.registry.domain.identifiers import kecamatan_of
from services.registry.domain.wilayah import (
    WilayahDataError,
    WilayahReference,
    default_wilayah,
    load_wilayah,
    normalize_name,
)

PADANG = "13.71"
PACKAGED_CSV = Path(__file__).parents[3] / "services" / "registry" / "wilayah" / "data" / "padang_wilayah_2025.csv"

# Kelurahan per kecamatan in Kepmendagri 300.2.2-2138/2025, 104 in all.
KELURAHAN_PER_KECAMATAN = {
    "13.71.01": 12,
    "13.71.02": 10,
    "13.71.03": 10,
    "13.71.04": 7,
    "13.71.05": 6,
    "13.71.06": 15,
    "13.71.07": 7,
    "13.71.08": 9,
    "13.71.09": 9,
    "13.71.10": 6,
    "13.71.11": 13,
}

KECAMATAN_NAME_AND_BPS = {
    "13.71.01": ("Padang Selatan", "1371040"),
    "13.71.02": ("Padang Timur", "1371050"),
    "13.71.03": ("Padang Barat", "1371060"),
    "13.71.04": ("Padang Utara", "1371070"),
    "13.71.05": ("Bungus Teluk Kabung", "1371010"),
    "13.71.06": ("Lubuk Begalung", "1371030"),
    "13.71.07": ("Lubuk Kilangan", "1371020"),
    "13.71.08": ("Pauh", "1371100"),
    "13.71.09": ("Kuranji", "1371090"),
    "13.71.10": ("Nanggalo", "1371080"),
    "13.71.11": ("Koto Tangah", "1371110"),
}

HEADER = "kode,nama,tingkat,kode_bps,alias\n"
SMALL_CITY = (
    HEADER + "13,Sumatera Barat,provinsi,13,\n"
    "13.05,Kabupaten Uji,kabupaten,1305,\n"
    "13.05.01,Kecamatan Satu,kecamatan,1305010,Satu\n"
    "13.05.01.2001,Desa Satu,desa,,\n"
    "13.05.01.1002,Kelurahan Dua,kelurahan,,\n"
    "13.05.02,Kecamatan Dua,kecamatan,1305020,\n"
)


@pytest.fixture(scope="module")
def wilayah() -> WilayahReference:
    return default_wilayah()


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "wilayah.csv"
    path.write_text(text, encoding="utf-8")
    return path


# --- Padang data ---------------------------------------------------------------------------------------


def test_padang_has_11_kecamatan_in_code_order(wilayah: WilayahReference) -> None:
    assert wilayah.kecamatan_codes_of_kota(PADANG) == tuple(f"13.71.{number:02d}" for number in range(1, 12))
    assert len(wilayah.kecamatan_list(within=PADANG)) == 11


def test_padang_has_104_kelurahan(wilayah: WilayahReference) -> None:
    kelurahan = wilayah.kelurahan_list(within=PADANG)

    assert len(kelurahan) == 104
    assert all(area.tingkat == "kelurahan" for area in kelurahan)


def test_whole_file_is_one_province_one_kota_11_kecamatan_104_kelurahan(wilayah: WilayahReference) -> None:
    levels = [area.tingkat for area in wilayah]

    assert {level: levels.count(level) for level in set(levels)} == {
        "provinsi": 1,
        "kota": 1,
        "kecamatan": 11,
        "kelurahan": 104,
    }


@pytest.mark.parametrize(("kecamatan", "count"), sorted(KELURAHAN_PER_KECAMATAN.items()))
def test_kelurahan_count_per_kecamatan(wilayah: WilayahReference, kecamatan: str, count: int) -> None:
    assert len(wilayah.kelurahan_list(within=kecamatan)) == count
    assert len(wilayah.children(kecamatan)) == count


def test_every_kelurahan_parent_exists_and_is_its_kecamatan(wilayah: WilayahReference) -> None:
    for area in wilayah.kelurahan_list():
        assert area.parent == kecamatan_of(area.code)
        assert wilayah.get(area.parent).tingkat == "kecamatan"


def test_every_area_below_the_province_has_an_existing_parent(wilayah: WilayahReference) -> None:
    for area in wilayah:
        if area.tingkat != "provinsi":
            assert area.parent in wilayah


@pytest.mark.parametrize(("code", "name_and_bps"), sorted(KECAMATAN_NAME_AND_BPS.items()))
def test_kecamatan_names_and_bps_codes(wilayah: WilayahReference, code: str, name_and_bps: tuple[str, str]) -> None:
    area = wilayah.get(code)

    assert (area.name, area.kode_bps) == name_and_bps
    assert wilayah.by_bps(name_and_bps[1]) == area


def test_koto_tangah_keeps_both_codes(wilayah: WilayahReference) -> None:
    # DOMAIN §3: Kemendagri 13.71.11 is BPS 1371110.
    by_bps = wilayah.by_bps("1371110")

    assert by_bps is not None
    assert by_bps.code == "13.71.11"
    assert by_bps.name == "Koto Tangah"


def test_kota_and_province_rows(wilayah: WilayahReference) -> None:
    assert wilayah.get(PADANG).name == "Kota Padang"
    assert wilayah.get(PADANG).kode_bps == "1371"
    assert wilayah.get("13").name == "Sumatera Barat"
    assert [area.code for area in wilayah.children("13")] == [PADANG]


def test_kelurahan_have_no_bps_code_yet(wilayah: WilayahReference) -> None:
    assert all(area.kode_bps is None for area in wilayah.kelurahan_list())


def test_no_two_kelurahan_share_a_name_in_one_kecamatan(wilayah: WilayahReference) -> None:
    for kecamatan in wilayah.kecamatan_list():
        names = [normalize_name(area.name) for area in wilayah.children(kecamatan.code)]
        assert len(names) == len(set(names)), kecamatan.name


# --- lookups -------------------------------------------------------------------------------------------


def test_get_find_and_contains(wilayah: WilayahReference) -> None:
    assert wilayah.get("13.71.10.1004").name == "Gurun Laweh"
    assert wilayah.find("13.71.10.1099") is None
    assert "13.71.06.1006" in wilayah
    assert "13.71.12" not in wilayah
    with pytest.raises(KeyError):
        wilayah.get("13.71.12")


def test_children_are_ordered_by_code(wilayah: WilayahReference) -> None:
    names = [area.name for area in wilayah.children("13.71.10")]

    assert names == [
        "Surau Gadang",
        "Kampung Olo",
        "Kurao Pagang",
        "Gurun Laweh",
        "Tabiang Banda Gadang",
        "Kampung Lapai",
    ]
    assert wilayah.children("13.71.10.1004") == []
    assert wilayah.children("99.99") == []


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("13.71.10.1004", True),
        ("13.71.06.1015", True),
        ("13.71.10", False),
        (PADANG, False),
        ("13.71.10.1099", False),
        ("13.71.12.1001", False),
        ("not a code", False),
    ],
)
def test_is_kelurahan(wilayah: WilayahReference, code: str, expected: bool) -> None:
    assert wilayah.is_kelurahan(code) is expected


def test_kecamatan_codes_of_unknown_kota_is_empty(wilayah: WilayahReference) -> None:
    assert wilayah.kecamatan_codes_of_kota("13.72") == ()


def test_default_reference_is_loaded_once() -> None:
    assert default_wilayah() is default_wilayah()


def test_loading_the_packaged_file_by_path_gives_the_same_codes(wilayah: WilayahReference) -> None:
    assert [area.code for area in load_wilayah(PACKAGED_CSV)] == [area.code for area in wilayah]


# --- name search ---------------------------------------------------------------------------------------


def test_gurun_laweh_is_the_one_in_nanggalo(wilayah: WilayahReference) -> None:
    found = wilayah.search("Gurun Laweh")

    assert [area.code for area in found] == ["13.71.10.1004"]
    assert wilayah.get(found[0].parent or "").name == "Nanggalo"


def test_gurun_laweh_nan_xx_is_the_one_in_lubuk_begalung(wilayah: WilayahReference) -> None:
    found = wilayah.search("Gurun Laweh Nan XX")

    assert [area.code for area in found] == ["13.71.06.1006"]
    assert wilayah.get(found[0].parent or "").name == "Lubuk Begalung"


def test_partial_search_finds_both_gurun_laweh_and_within_narrows_it(wilayah: WilayahReference) -> None:
    assert [area.code for area in wilayah.search("gurun laweh", partial=True)] == [
        "13.71.06.1006",
        "13.71.10.1004",
    ]
    assert [area.code for area in wilayah.search("gurun laweh", partial=True, within="13.71.06")] == ["13.71.06.1006"]


@pytest.mark.parametrize("query", ["GURUN LAWEH", "gurun laweh", "  Gurun   Laweh ", "Gurun Láweh", "GÜRUN LAWÉH"])
def test_search_ignores_case_accents_and_spacing(wilayah: WilayahReference, query: str) -> None:
    assert [area.code for area in wilayah.search(query)] == ["13.71.10.1004"]


def test_search_ignores_punctuation(wilayah: WilayahReference) -> None:
    assert [area.code for area in wilayah.search("bukit gado gado")] == ["13.71.01.1012"]
    assert [area.code for area in wilayah.search("Bukit Gado-Gado")] == ["13.71.01.1012"]


@pytest.mark.parametrize(
    ("alias", "code", "name"),
    [
        ("Bungus", "13.71.05", "Bungus Teluk Kabung"),
        ("air pacah", "13.71.11.1003", "Aie Pacah"),
        ("Pasir Nan Tigo", "13.71.11.1013", "Pasie Nan Tigo"),
        ("BANDAR BUAT", "13.71.07.1004", "Banda Buek"),
        ("Koto Luar", "13.71.08.1002", "Koto Lua"),
    ],
)
def test_search_matches_aliases(wilayah: WilayahReference, alias: str, code: str, name: str) -> None:
    found = wilayah.search(alias)

    assert [area.code for area in found] == [code]
    assert found[0].name == name


def test_aliases_are_split_into_a_tuple(wilayah: WilayahReference) -> None:
    assert wilayah.get("13.71.05").aliases == ("Bungus",)
    assert wilayah.get("13.71.10.1004").aliases == ()


def test_exact_alias_search_does_not_pull_in_similar_names(wilayah: WilayahReference) -> None:
    assert len(wilayah.search("Bungus", partial=True)) == 4  # the kecamatan and Bungus Timur/Barat/Selatan


def test_same_name_at_two_levels_is_told_apart_by_tingkat(wilayah: WilayahReference) -> None:
    assert [area.code for area in wilayah.search("Kuranji")] == ["13.71.09", "13.71.09.1007"]
    assert [area.code for area in wilayah.search("Kuranji", tingkat="kelurahan")] == ["13.71.09.1007"]
    assert [area.code for area in wilayah.search("Kuranji", tingkat="kecamatan")] == ["13.71.09"]


@pytest.mark.parametrize("query", ["", "   ", "-", "Jakarta"])
def test_search_without_a_match_is_empty(wilayah: WilayahReference, query: str) -> None:
    assert wilayah.search(query) == []


# --- another city's file -------------------------------------------------------------------------------


def test_loader_reads_another_region_with_desa(tmp_path: Path) -> None:
    reference = load_wilayah(write_csv(tmp_path, SMALL_CITY))

    assert reference.get("13.05").tingkat == "kabupaten"
    assert reference.get("13.05.01.2001").tingkat == "desa"
    assert reference.is_kelurahan("13.05.01.2001")
    assert [area.code for area in reference.kelurahan_list()] == ["13.05.01.1002", "13.05.01.2001"]
    assert reference.kecamatan_codes_of_kota("13.05") == ("13.05.01", "13.05.02")
    assert [area.code for area in reference.search("satu")] == ["13.05.01"]  # by alias
    assert [area.code for area in reference.search("satu", partial=True)] == ["13.05.01", "13.05.01.2001"]


def test_loader_accepts_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_text(SMALL_CITY, encoding="utf-8-sig")

    assert len(load_wilayah(path)) == 6


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kode,nama\n13,Sumatera Barat\n", "header"),
        (SMALL_CITY + "13.05.01.2001,Desa Lagi,desa,,\n", "duplicate kode 13.05.01.2001"),
        (SMALL_CITY + "13.05.03.2001,Desa Yatim,desa,,\n", "parent 13.05.03 of 13.05.03.2001 is missing"),
        (HEADER + "13.71,Kota Padang,kota,,\n", "parent 13 of 13.71 is missing"),
        (SMALL_CITY + "13.05.01.3001,Salah,desa,,\n", "13.05.01.3001"),
        (SMALL_CITY + "1305013,Salah,kecamatan,,\n", "1305013"),
        (SMALL_CITY + "20.01,Salah,kabupaten,,\n", "20.01"),
        (SMALL_CITY + "13.05.02.1001,Kelurahan,desa,,\n", "is a kelurahan, but tingkat says 'desa'"),
        (SMALL_CITY + "13.71,Kota Padang,kabupaten,,\n", "is a kota"),
        (SMALL_CITY + "13.05.02.1001,,kelurahan,,\n", "no nama"),
        (SMALL_CITY + "13.05.03,Kecamatan Tiga,kecamatan,130503,\n", "not 7 digits"),
        (SMALL_CITY + "13.05.03,Kecamatan Tiga,kecamatan,13050x0,\n", "not 7 digits"),
        (SMALL_CITY + "13.05.03,Kecamatan Tiga,kecamatan,1305010,\n", "already used by 13.05.01"),
        (SMALL_CITY + "13.05.03,Kecamatan Tiga,kecamatan,1306030,\n", "is not under 1305"),
        (SMALL_CITY + "13.05.03,Kecamatan Tiga,kecamatan,,Tiga||3\n", "empty alias"),
        (SMALL_CITY + "13.05.03,Kecamatan Tiga,kecamatan,,,extra\n", "columns"),
        (SMALL_CITY + "13.05.03,Kecamatan Tiga\n", "columns"),
    ],
)
def test_loader_rejects_bad_data(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(WilayahDataError, match=message):
        load_wilayah(write_csv(tmp_path, text))


def test_loader_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(WilayahDataError, match=r"wilayah\.csv:8: duplicate"):
        load_wilayah(write_csv(tmp_path, SMALL_CITY + "13.05.01,Lagi,kecamatan,,\n"))


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [("Bukit Gado-gado", "bukit gado gado"), ("  Aie  Pacah ", "aie pacah"), ("Láweh", "laweh"), ("", "")],
)
def test_normalize_name(raw: str, normalized: str) -> None:
    assert normalize_name(raw) == normalized


def test_within_means_strictly_below_a_whole_code(wilayah: WilayahReference) -> None:
    assert wilayah.kecamatan_list(within="13.71.10") == []
    assert wilayah.search("Nanggalo", within="13.71.10") == []
    assert wilayah.kelurahan_list(within="13.7") == []
    assert [area.code for area in wilayah.search("Nanggalo", within=PADANG)] == ["13.71.10"]
