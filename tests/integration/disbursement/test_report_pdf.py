"""The tahap report PDF against the JSON API of the same tahap, on PostgreSQL and SQLite: its text (pdftotext) holds
the figures the API returns, every page is numbered, the first page is saved as an artefact, and scope holds."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.integration.disbursement.conftest import Service
from tests.integration.disbursement.flows import add_rule, approve, generate, lines, new_tahap, upload
from tests.integration.disbursement.support import feed, household_envelope
from tests.support.pdf import (
    assert_non_blank_png,
    number,
    page_count,
    pdf_text,
    rows_starting_with,
    save_first_page,
)

KEC = ("13.71.01", "13.71.02")


def _rupiah(value: int) -> str:
    return f"Rp {number(value)}"


async def _two_tahap(svc: Service) -> str:
    """Tahap I and II of SEMBAKO over two kecamatan; tahap II has paid, failed and held lines. Returns II's id."""
    families = [
        household_envelope(f"k{k}-{i}", 1, kelurahan=f"{kec}.1001", desil=1 + i % 4, members=2 + i)
        for k, kec in enumerate(KEC)
        for i in range(4)
    ]
    await feed(svc.runtime, families)
    version = await add_rule(svc)
    first = await new_tahap(svc, "2026-I", version)
    await generate(svc, first)
    await approve(svc, first)
    # Between the tahap: one family's desil rises out of the band, a new one arrives in the second kecamatan.
    await feed(
        svc.runtime,
        [
            household_envelope("k0-0", 2, kelurahan="13.71.01.1001", desil=8, members=2),
            household_envelope("k1-new", 1, kelurahan="13.71.02.1001", desil=2, members=5),
        ],
    )
    second = await new_tahap(svc, "2026-II", version)
    await generate(svc, second)
    await approve(svc, second)
    by_hh = await lines(svc, second)
    paid, failed = by_hh["k0-1"], by_hh["k1-1"]
    await upload(
        svc,
        second,
        [
            {**_row(paid, second), "status": "paid", "date": "2026-06-25", "reference": "B1"},
            {**_row(failed, second), "status": "failed", "failure_reason": "account_problem"},
        ],
    )
    moved = household_envelope("k1-2", 2, kelurahan="13.71.02.1001", status="inactive", reason="moved")
    await feed(svc.runtime, [moved])
    assert (await lines(svc, second))["k1-2"]["status"] == "on_hold"
    return second


def _row(line: dict[str, object], tahap_id: str) -> dict[str, object]:
    return {
        "line_id": line["line_id"],
        "programme_code": "SEMBAKO",
        "tahap_id": tahap_id,
        "household_id": line["household_id"],
        "amount": line["amount"],
    }


async def _pdf(svc: Service, tahap_id: str, who: str) -> tuple[bytes, dict[str, str]]:
    r = await svc.client.get(f"/tahap/{tahap_id}/report.pdf", headers=svc.users[who])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    return r.content, dict(r.headers)


async def _report_flow(svc: Service, name: str) -> None:
    tahap_id = await _two_tahap(svc)
    data, headers = await _pdf(svc, tahap_id, "prep")
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert page_count(text) >= 1
    assert "Laporan Penyaluran Tahap" in text
    assert "SEMBAKO tahap 2026-II" in text
    # The footer certifies the content whose hash the header names.
    assert headers["x-tepat-content-sha256"] in text.replace("\n", "")
    # Figures per kecamatan, as the JSON report and the payment lines give them.
    report = (await svc.client.get(f"/reports/tahap/{tahap_id}/kecamatan", headers=svc.users["prep"])).json()
    all_lines = list((await lines(svc, tahap_id)).values())
    assert [k["kecamatan_code"] for k in report["kecamatan"]] == list(KEC)
    for k in report["kecamatan"]:
        kec = k["kecamatan_code"]
        mine = [x for x in all_lines if x["kecamatan_code"] == kec]
        failed = [x for x in mine if x["status"] in ("failed", "returned")]
        held = [x for x in mine if x["status"] == "on_hold"]
        assert sum(k["failures_by_reason"].values()) == len(failed)
        assert k["on_hold"] == len(held)
        counts, amounts, changes = rows_starting_with(text, kec)[:3]
        assert counts[1:5] == [number(n) for n in (k["families_listed"], k["families_paid"], len(failed), len(held))]
        assert amounts[1:] == [
            _rupiah(n)
            for n in (
                k["amount_planned"],
                k["amount_paid"],
                sum(int(x["amount"]) for x in failed),
                sum(int(x["amount"]) for x in held),
            )
        ]
        change = next(c for c in (await _changes(svc, tahap_id, "prep"))["kecamatan"] if c["kecamatan_code"] == kec)
        assert changes[1:] == [number(change[f]) for f in ("previous", "added", "removed", "current")]
    whole = await _changes(svc, tahap_id, "prep")
    assert (whole["added"], whole["removed"]) == (1, 1)
    assert "desil naik di atas batas" in text  # the removed family's reason, in words
    assert "baru memenuhi syarat" in text
    total = rows_starting_with(text, "Jumlah")[0]
    assert total[1] == number(sum(k["families_listed"] for k in report["kecamatan"]))
    # Same data, same bytes; a change in the data changes the hash.
    again, _ = await _pdf(svc, tahap_id, "prep")
    assert again == data
    # The first page as a picture, kept as a test artefact.
    assert_non_blank_png(save_first_page(data, f"tahap-report-{name}"))
    # Scope: a kecamatan's TKSK gets its own kecamatan only, not the other's figures.
    scoped, mine_headers = await _pdf(svc, tahap_id, "tksk01")
    mine_text = pdf_text(scoped)
    assert rows_starting_with(mine_text, KEC[0])
    assert not rows_starting_with(mine_text, KEC[1])
    assert mine_headers["x-tepat-content-sha256"] != headers["x-tepat-content-sha256"]
    r = await svc.client.get(f"/tahap/{tahap_id}/report.pdf")
    assert r.status_code == 401
    r = await svc.client.get("/tahap/no-such-tahap/report.pdf", headers=svc.users["prep"])
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert hashlib.sha256(data).hexdigest() != headers["x-tepat-content-sha256"]  # the content's, not the file's


async def _changes(svc: Service, tahap_id: str, who: str) -> dict[str, Any]:
    r = await svc.client.get(f"/tahap/{tahap_id}/changes", headers=svc.users[who])
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.mark.infra
async def test_tahap_report_pdf_on_postgresql(pg_service: Service) -> None:
    await _report_flow(pg_service, "postgresql")


async def test_tahap_report_pdf_embedded(sqlite_service: Service) -> None:
    await _report_flow(sqlite_service, "sqlite")
