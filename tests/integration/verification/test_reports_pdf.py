"""The berita acara pengesahan and the TKSK work report as PDFs, on PostgreSQL and SQLite: their text (pdftotext)
holds the figures of the JSON API, every page is numbered, the first page is kept as an artefact, scope holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.verification.app import create_app
from services.verification.proposal_records import proposal
from services.verification.ratification.rules import list_hash
from services.verification.settings import VerificationSettings
from shared.events.envelope import utcnow
from tests.integration.verification.helpers import KEC_A, KEC_B, KEL_A, Api, doc, seed_family, visit_body
from tests.integration.verification.test_campaigns_ratification import _eligible_proposals
from tests.support.api import running
from tests.support.pdf import (
    assert_non_blank_png,
    number,
    page_count,
    pdf_text,
    rows_starting_with,
    save_first_page,
)


@pytest.fixture
async def sqlite_api(sqlite_settings: Any) -> AsyncIterator[Api]:
    """The verification app embedded on SQLite."""
    settings = sqlite_settings(VerificationSettings, run_workers=False)
    app = create_app(settings)
    async with running(app) as client:
        yield Api(client, settings.data_dir, app)


async def _pdf(api: Api, url: str, who: dict[str, str], expect: int = 200) -> tuple[bytes, dict[str, str]]:
    r = await api.client.get(url, headers=who)
    assert r.status_code == expect, r.text
    if expect == 200:
        assert r.headers["content-type"] == "application/pdf"
    return r.content, dict(r.headers)


def _flat(text: str) -> str:
    return " ".join(text.split())


async def _berita_acara_flow(api: Api, name: str) -> None:
    ids = await _eligible_proposals(api, 3)
    async with api.runtime.sessions() as session:
        cycle = (await session.execute(select(proposal.c.cycle).where(proposal.c.id == ids[0]))).scalar_one()
    prep = api.as_("verifikator", subject="verif-1")
    head = api.as_("kepala_dinas", subject="kadis")
    batch = await api.call("POST", "/ratification-batches", prep, {"cycle": cycle}, expect=201)
    await api.call("POST", f"/ratification-batches/{batch['id']}/submit", prep)
    await api.call("POST", f"/ratification-batches/{batch['id']}/ratify", head)
    await api.call(
        "POST", f"/ratification-batches/{batch['id']}/attachments", prep, await api.document("minutes", "batch")
    )
    url = f"/ratification-batches/{batch['id']}/berita-acara.pdf"
    data, headers = await _pdf(api, url, prep)
    text = pdf_text(data)
    flat = _flat(text)
    assert page_count(text) >= 1
    assert "Berita Acara Pengesahan Usulan" in text
    # The batch as the JSON API shows it.
    shown = await api.call("GET", f"/ratification-batches/{batch['id']}", prep)
    assert shown["status"] == "ratified"
    assert rows_starting_with(text, "Nomor batch")[0][1] == str(shown["id"])
    assert rows_starting_with(text, "Siklus")[0][1] == shown["cycle"]
    assert rows_starting_with(text, "Jumlah usulan")[0][1] == number(shown["proposal_count"])
    assert f"Disahkan oleh {shown['ratified_by']}," in flat
    # The list's hash, computed from the usulan the API lists for this batch.
    page = await api.call("GET", f"/proposals?cycle={cycle}&limit=500", prep)
    mine = [p for p in page["items"] if p["batch_id"] == batch["id"]]
    assert sorted(p["id"] for p in mine) == sorted(ids)
    assert rows_starting_with(text, "Daftar usulan batch ini")[0][1] == list_hash(mine)
    assert doc("minutes", "batch")["sha256"] in flat
    assert rows_starting_with(text, KEC_A)[0][1] == number(len(ids))
    for i, p in enumerate(sorted(mine, key=lambda p: p["id"]), start=1):
        assert rows_starting_with(text, str(i))[-1][1:3] == [str(p["id"]), p["household_id"]]
    assert headers["x-tepat-content-sha256"] in flat
    again, _ = await _pdf(api, url, prep)
    assert again == data
    assert_non_blank_png(save_first_page(data, f"berita-acara-{name}"))
    # Scope: the batch is kota-level; a kelurahan operator and another kecamatan's TKSK get 404.
    await _pdf(api, url, api.as_("operator_kelurahan", KEL_A), expect=404)
    await _pdf(api, url, api.as_("tksk", KEC_B, subject="tksk-b"), expect=404)
    await _pdf(api, "/ratification-batches/999999/berita-acara.pdf", prep, expect=404)


async def _tksk_flow(api: Api, name: str) -> None:
    boss = await api.approver("verif-1")
    await api.officer("tksk-a", "tksk", KEC_A)
    families = [await seed_family(api.runtime, kelurahan=KEL_A, desil=d) for d in (1, 2, 3, 4)]
    campaign = await api.call(
        "POST", "/campaigns", boss, {"name": "Revalidasi uji", "kecamatan_codes": [KEC_A], "desil_max": 4}, 201
    )
    assert campaign["created_checks"] == len(families)
    tksk = api.as_("tksk", KEC_A, subject="tksk-a")
    checks = (await api.call("GET", f"/ground-checks?campaign_id={campaign['id']}", boss))["items"]
    first, second, third, _ = checks
    await api.call("POST", f"/ground-checks/{first['id']}/visit", tksk, visit_body(photo=await api.photo()))
    await api.call("POST", f"/ground-checks/{first['id']}/approve", boss)
    moved = visit_body("tidak_layak", "moved", photo=await api.photo("b"))
    await api.call("POST", f"/ground-checks/{second['id']}/visit", tksk, moved)
    await api.call("POST", f"/ground-checks/{third['id']}/visit", tksk, visit_body(photo=await api.photo("c")))
    today = utcnow().date()
    query = f"kecamatan_code={KEC_A}&from={(today - timedelta(days=3)).isoformat()}&to={today.isoformat()}"
    report = await api.call("GET", f"/ground-checks/reports/tksk?{query}", boss)
    officer = next(o for o in report["officers"] if o["officer"] == "tksk-a")
    assert (officer["assigned"], officer["visited"], officer["layak"], officer["tidak_layak"]) == (4, 3, 2, 1)
    assert [(o["outcome"], o["reason"], o["visits"]) for o in report["outcomes"]] == [
        ("layak", None, 2),
        ("tidak_layak", "moved", 1),
    ]
    (work,) = report["campaigns"]
    assert (work["total"], work["done"]) == (4, 1)

    data, headers = await _pdf(api, f"/ground-checks/reports/tksk.pdf?{query}", boss)
    text = pdf_text(data)
    assert page_count(text) >= 1
    assert "Laporan Kerja TKSK" in text
    row = rows_starting_with(text, "tksk-a")[0]
    assert row[1:] == [
        "tksk",
        *(number(officer[f]) for f in ("assigned", "visited", "layak", "tidak_layak", "overdue")),
    ]
    assert rows_starting_with(text, "tidak layak")[0][1:] == ["pindah", "1"]
    campaign_row = rows_starting_with(text, f"{work['campaign_id']}. Revalidasi uji")[0]
    assert campaign_row[1:4] == [number(work["total"]), number(work["done"]), number(work["total"] - work["done"])]
    assert headers["x-tepat-content-sha256"] in _flat(text)
    again, _ = await _pdf(api, f"/ground-checks/reports/tksk.pdf?{query}", boss)
    assert again == data
    assert_non_blank_png(save_first_page(data, f"tksk-report-{name}"))
    # The kecamatan's own TKSK sees the same figures; another kecamatan's gets 404; a bad period is a 422.
    own, _ = await _pdf(api, f"/ground-checks/reports/tksk.pdf?{query}", tksk)
    assert rows_starting_with(pdf_text(own), "tksk-a")[0] == row
    await _pdf(api, f"/ground-checks/reports/tksk.pdf?{query}", api.as_("tksk", KEC_B, subject="tksk-b"), expect=404)
    backwards = f"kecamatan_code={KEC_A}&from={today.isoformat()}&to={(today - timedelta(days=1)).isoformat()}"
    bad = await api.call("GET", f"/ground-checks/reports/tksk.pdf?{backwards}", boss, expect=422)
    assert bad["errors"][0]["field"] == "to"
    kota = "kecamatan_code=13.71&from=2026-01-01&to=2026-01-31"
    bad = await api.call("GET", f"/ground-checks/reports/tksk?{kota}", boss, expect=422)
    assert bad["errors"][0]["field"] == "kecamatan_code"


@pytest.mark.infra
async def test_berita_acara_on_postgresql(api: Api) -> None:
    await _berita_acara_flow(api, "postgresql")


async def test_berita_acara_embedded(sqlite_api: Api) -> None:
    await _berita_acara_flow(sqlite_api, "sqlite")


@pytest.mark.infra
async def test_tksk_report_on_postgresql(api: Api) -> None:
    await _tksk_flow(api, "postgresql")


async def test_tksk_report_embedded(sqlite_api: Api) -> None:
    await _tksk_flow(sqlite_api, "sqlite")
