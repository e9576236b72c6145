"""Verification exports (ground checks, campaign progress) equal the JSON row for row, with filters and scope."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.verification.app import create_app
from services.verification.campaigns.schemas import PROGRESS_COLUMNS
from services.verification.groundchecks.schemas import CHECK_COLUMNS
from services.verification.settings import VerificationSettings
from tests.integration.verification.helpers import KEC_A, KEC_B, KEL_A, KEL_B, Api, seed_family
from tests.support.api import running
from tests.support.exports import expected, read_csv, read_xlsx, same_sheet


async def files(api: Api, url: str, who: dict[str, str], columns: Any) -> tuple[list[list[Any]], list[list[Any]]]:
    """The CSV and the XLSX of an export, read back."""
    sep = "&" if "?" in url else "?"
    c = await api.client.get(f"{url}{sep}format=csv", headers=who)
    assert c.status_code == 200, c.text
    assert c.headers["content-type"].startswith("text/csv")
    x = await api.client.get(f"{url}{sep}format=xlsx", headers=who)
    assert x.status_code == 200, x.text
    return read_csv(c.content, columns), read_xlsx(x.content, columns)


def check_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The JSON checks with GPS split and photos by hash, as the export lays them out."""
    return [
        item
        | {
            "gps_lat": (item["gps"] or {}).get("lat"),
            "gps_lon": (item["gps"] or {}).get("lon"),
            "photos": [p["sha256"] for p in item["photos"] or []],
        }
        for item in items
    ]


@pytest.fixture
async def embedded(sqlite_settings: Any) -> AsyncIterator[Api]:
    """The verification app in embedded mode (SQLite)."""
    settings = sqlite_settings(VerificationSettings, run_workers=False)
    app = create_app(settings)
    async with running(app) as client:
        yield Api(client, settings.data_dir, app)


@pytest.mark.infra
async def test_exports_on_postgresql(api: Api) -> None:
    await ground_check_and_campaign_progress_exports(api)


async def test_exports_embedded(embedded: Api) -> None:
    await ground_check_and_campaign_progress_exports(embedded)


async def ground_check_and_campaign_progress_exports(api: Api) -> None:
    """Each file holds the JSON's rows: every check, filtered, scoped; the progress's two tables in one."""
    boss = api.as_("verifikator", subject="verif-1")
    await api.officer("tksk-a", "tksk", KEC_A)
    for kelurahan, n in ((KEL_A, 3), (KEL_B, 2)):
        for _ in range(n):
            await seed_family(api.runtime, kelurahan=kelurahan, desil=2)
    body = {"name": "Revalidasi =cek", "kecamatan_codes": [KEC_A, KEC_B], "not_verified_months": 0}
    campaign = await api.call("POST", "/campaigns", boss, body, expect=201)
    assert campaign["created_checks"] == 5

    # Every check, then the list's filters, then a TKSK's scope: the files hold exactly the JSON's rows.
    tksk = api.as_("tksk", KEC_A, subject="tksk-a")
    for who, query, n in (
        (boss, "", 5),
        (boss, "?status=open", 2),
        (boss, f"?campaign_id={campaign['id']}&kelurahan_code={KEC_A}", 3),
        (tksk, "", 3),
    ):
        listed = (await api.call("GET", f"/ground-checks{query}{'&' if query else '?'}limit=500", who))["items"]
        assert len(listed) == n
        csv_rows, xlsx_rows = await files(api, f"/ground-checks/export{query}", who, CHECK_COLUMNS)
        want = expected(check_rows(listed), CHECK_COLUMNS)
        assert csv_rows == want
        assert same_sheet(xlsx_rows, want)
    csv_rows, _ = await files(api, "/ground-checks/export", tksk, CHECK_COLUMNS)
    assert {r[3] for r in csv_rows} == {KEL_A}

    # Campaign progress: a row per kecamatan, then per officer, with the JSON's counts.
    url = f"/campaigns/{campaign['id']}/progress"
    for who in (boss, tksk):
        progress = await api.call("GET", url, who)
        states = [c.key for c in PROGRESS_COLUMNS[3:-2]]
        want_rows = [
            {"group": "kecamatan", "key": k, "role": None, **{s: c.get(s, 0) for s in states}}
            | {"total": sum(c.values()), "overdue": None}
            for k, c in progress["by_kecamatan"].items()
        ] + [
            {"group": "petugas", "key": w["officer"], "role": w["role"], **{s: w["counts"].get(s, 0) for s in states}}
            | {"total": sum(w["counts"].values()), "overdue": w["overdue"]}
            for w in progress["by_officer"]
        ]
        csv_rows, xlsx_rows = await files(api, f"{url}/export", who, PROGRESS_COLUMNS)
        want = expected(want_rows, PROGRESS_COLUMNS)
        assert csv_rows == want
        assert same_sheet(xlsx_rows, want)
    assert ["kecamatan", KEC_A, None, 0, 3, 0, 0, 0, 3, None] in csv_rows
    assert len(csv_rows) == 2  # the TKSK's kecamatan and the TKSK
    # Outside the campaign's wilayah it does not exist; a bad format is a problem naming the field.
    outsider = api.as_("tksk", "13.71.05", subject="t5")
    await api.call("GET", f"{url}/export", outsider, expect=404)
    bad = await api.client.get("/ground-checks/export?format=ods", headers=boss)
    assert bad.status_code == 422
    assert "format" in bad.text
