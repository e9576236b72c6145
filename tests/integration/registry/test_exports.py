"""Registry exports (families, correction queue, flags) equal the JSON lists row for row: filters, scope, masking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.registry.app import create_app
from services.registry.corrections.schemas import CORRECTION_COLUMNS
from services.registry.families.schemas import FAMILY_COLUMNS
from services.registry.flags.schemas import FLAG_COLUMNS
from services.registry.settings import RegistrySettings
from shared.auth.principal import Role
from shared.exports.tabular import Column
from tests.integration.registry.conftest import Registry
from tests.integration.registry.helpers import Api, kk, nik
from tests.integration.registry.import_support import csv_text, row, submit
from tests.support.api import running
from tests.support.exports import expected, read_csv, read_xlsx, same_sheet

HEAD, CHILD = "kepala_keluarga", "anak"
SELATAN, TIMUR = "13.71.01.1001", "13.71.02.1001"


def city() -> str:
    """Three families in Padang Selatan, two in Padang Timur; two rows for the correction queue."""
    rows = [row(kk(i), nik(i), f"Budi {i}", HEAD, desil=str(1 + i % 4)) for i in range(1, 4)]
    rows += [
        row(kk(1), "13710110032200", "Adi", CHILD),  # 14 digits: queued
        row(kk(4), nik(4, region="137102"), "=Dedi", HEAD, kelurahan_code=TIMUR, alamat="@Jl. Sawahan 1"),
        row(kk(5), nik(5, region="137102"), "Rina", HEAD, kelurahan_code=TIMUR, desil="2"),
        row(kk(5), "1371021A04150006", "Rini", CHILD, kelurahan_code=TIMUR),  # a letter: queued
    ]
    return csv_text(rows)


async def three_ways(
    api: Api, path: str, columns: tuple[Column, ...], query: str = "", *, items: bool = True
) -> tuple[list[dict[str, Any]], list[list[Any]], list[list[Any]]]:
    """The JSON list (one page of up to 200), its CSV export and its XLSX export, read back."""
    sep = "&" if query else ""
    j = await api.get(f"{path}?{query}{sep}limit=200")
    assert j.status_code == 200, j.text
    listed = j.json()["items"] if items else j.json()
    c = await api.get(f"{path}/export?{query}{sep}format=csv")
    assert c.status_code == 200, c.text
    assert c.headers["content-type"].startswith("text/csv")
    assert c.headers["content-disposition"].startswith("attachment;")
    x = await api.get(f"{path}/export?{query}{sep}format=xlsx")
    assert x.status_code == 200, x.text
    return listed, read_csv(c.content, columns), read_xlsx(x.content, columns)


def agree(listed: list[dict[str, Any]], csv_rows: list[list[Any]], xlsx_rows: list[list[Any]], columns: Any) -> None:
    """Both files hold exactly the JSON's rows, in its order."""
    want = expected(listed, columns)
    assert csv_rows == want
    assert same_sheet(xlsx_rows, want)


@pytest.fixture
async def embedded(sqlite_settings: Any) -> AsyncIterator[Registry]:
    """The registry in embedded mode (SQLite)."""
    settings = sqlite_settings(RegistrySettings)
    app = create_app(settings)
    async with running(app) as client:
        yield Registry(client, app.state.runtime, settings.data_dir)


@pytest.mark.infra
async def test_exports_on_postgresql(registry: Registry) -> None:
    await exports_equal_the_json_lists_with_scope_filters_and_masking(registry)


async def test_exports_embedded(embedded: Registry) -> None:
    await exports_equal_the_json_lists_with_scope_filters_and_masking(embedded)


async def exports_equal_the_json_lists_with_scope_filters_and_masking(registry: Registry) -> None:
    """Families, correction queue and flags: each file holds the JSON list's rows, whatever the role and scope."""
    job = await submit(registry.as_(Role.VERIFIKATOR), "/imports/extracts", city())
    assert job["status"] == "succeeded", job
    assert job["counts"]["rows_queued"] == 2

    # Families: a kota-wide verifikator sees names and addresses, identifiers masked; every family, in list order.
    verifikator = registry.as_(Role.VERIFIKATOR)
    listed, csv_rows, xlsx_rows = await three_ways(verifikator, "/families", FAMILY_COLUMNS)
    assert len(listed) == 5
    agree(listed, csv_rows, xlsx_rows, FAMILY_COLUMNS)
    assert all("•" in r["no_kk"] and "•" in r["head_nik"] for r in listed)
    assert any(r["open_flags"] for r in listed)
    # A formula-like address is text in both files, never a formula.
    (sawahan,) = [r for r in listed if r["address"] == "@Jl. Sawahan 1"]
    position = [c.key for c in FAMILY_COLUMNS].index("address")
    assert "'@Jl. Sawahan 1" in [r[position] for r in csv_rows]
    assert sawahan["id"] in [r[0] for r in csv_rows]
    # The kepala dinas (no READ_PERSONAL_DATA) gets addresses withheld, in the files as in the JSON.
    kadis = registry.as_(Role.KEPALA_DINAS)
    listed, csv_rows, xlsx_rows = await three_ways(kadis, "/families", FAMILY_COLUMNS)
    assert len(listed) == 5
    assert all(r["address"] is None for r in listed)
    agree(listed, csv_rows, xlsx_rows, FAMILY_COLUMNS)
    assert all(r[position] is None for r in csv_rows + xlsx_rows)
    # The list's filters apply; a kelurahan-scoped operator exports only their kelurahan.
    listed, csv_rows, xlsx_rows = await three_ways(verifikator, "/families", FAMILY_COLUMNS, "desil_max=2")
    assert {r["desil"] for r in listed} <= {1, 2}
    assert listed
    agree(listed, csv_rows, xlsx_rows, FAMILY_COLUMNS)
    operator = registry.as_(Role.OPERATOR_KELURAHAN, TIMUR)
    listed, csv_rows, xlsx_rows = await three_ways(operator, "/families", FAMILY_COLUMNS)
    assert {r["kelurahan_code"] for r in listed} == {TIMUR}
    assert len(listed) == 2
    agree(listed, csv_rows, xlsx_rows, FAMILY_COLUMNS)

    # The correction queue: a TKSK reads the identifiers, a kelurahan operator sees them masked.
    tksk = registry.as_(Role.TKSK, "13.71.01")
    listed, csv_rows, xlsx_rows = await three_ways(tksk, "/corrections", CORRECTION_COLUMNS)
    assert [r["raw"]["nik"] for r in listed] == ["13710110032200"]
    agree(listed, csv_rows, xlsx_rows, CORRECTION_COLUMNS)
    listed, csv_rows, xlsx_rows = await three_ways(operator, "/corrections", CORRECTION_COLUMNS)
    assert [r["raw"]["nik"] for r in listed] == ["1371••••••••0006"]
    agree(listed, csv_rows, xlsx_rows, CORRECTION_COLUMNS)
    assert "1371021A04150006" not in str(csv_rows + xlsx_rows)
    listed, csv_rows, xlsx_rows = await three_ways(verifikator, "/corrections", CORRECTION_COLUMNS, "status=fixed")
    assert listed == []
    assert csv_rows == []
    assert xlsx_rows == []
    assert (await registry.as_(Role.LURAH, SELATAN).get("/corrections/export")).status_code == 403

    # Flags, newest first, filtered and scoped like the list.
    listed, csv_rows, xlsx_rows = await three_ways(verifikator, "/flags", FLAG_COLUMNS)
    assert len(listed) >= 2
    agree(listed, csv_rows, xlsx_rows, FLAG_COLUMNS)
    listed, csv_rows, xlsx_rows = await three_ways(
        verifikator, "/flags", FLAG_COLUMNS, "kind=member_needs_correction&kecamatan=13.71.02"
    )
    assert [(r["kind"], r["kelurahan_code"]) for r in listed] == [("member_needs_correction", TIMUR)]
    agree(listed, csv_rows, xlsx_rows, FLAG_COLUMNS)
    listed, csv_rows, xlsx_rows = await three_ways(tksk, "/flags", FLAG_COLUMNS)
    assert listed
    assert {r["kelurahan_code"] for r in listed} == {SELATAN}
    agree(listed, csv_rows, xlsx_rows, FLAG_COLUMNS)


async def test_bad_export_parameters_are_problems_naming_the_field(embedded: Registry) -> None:
    api = embedded.as_(Role.VERIFIKATOR)
    for url, field in (
        ("/families/export?format=pdf", "format"),
        ("/families/export?flag=nope", "flag"),
        ("/flags/export?status=maybe", "status"),
        ("/corrections/export?status=gone", "status"),
    ):
        r = await api.get(url)
        assert r.status_code == 422, (url, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in r.text
