"""Payment-line exports (CSV, XLSX) equal the JSON list row for row, with its filters and its scope."""

from __future__ import annotations

from typing import Any

import pytest

from services.disbursement.payer_reports.schemas import ERROR_COLUMNS
from services.disbursement.payments.schemas import LINE_COLUMNS
from services.disbursement.reconciliation.schemas import BREAK_COLUMNS
from services.disbursement.tahap.schemas import LIST_COLUMNS
from shared.exports.tabular import Column
from tests.integration.disbursement.conftest import Service
from tests.integration.disbursement.flows import add_rule, approve, generate, new_tahap, upload
from tests.integration.disbursement.support import feed, household_envelope
from tests.support.exports import expected, read_csv, read_xlsx, same_sheet


def _expected(json_rows: list[dict[str, Any]], columns: tuple[Column, ...] = LINE_COLUMNS) -> list[list[Any]]:
    return expected(json_rows, columns)


async def _three_ways(
    svc: Service, user: str, url: str, columns: tuple[Column, ...] = LINE_COLUMNS
) -> tuple[list[dict[str, Any]], list[list[Any]], list[list[Any]]]:
    headers = svc.users[user]
    sep = "&" if "?" in url else "?"
    j = await svc.client.get(f"{url}{sep}limit=1000", headers=headers)
    assert j.status_code == 200, j.text
    c = await svc.client.get(f"{url}{sep}format=csv", headers=headers)
    assert c.status_code == 200, c.text
    assert c.headers["content-type"].startswith("text/csv")
    x = await svc.client.get(f"{url}{sep}format=xlsx", headers=headers)
    assert x.status_code == 200, x.text
    return j.json(), read_csv(c.content, columns), read_xlsx(x.content, columns)


async def _flow(svc: Service) -> None:
    await feed(
        svc.runtime,
        [household_envelope(f"a{i}", 1, desil=1 + i % 3) for i in range(4)]
        + [household_envelope(f"b{i}", 1, desil=1 + i % 3, kelurahan="13.71.02.1001") for i in range(3)],
    )
    tahap_id = await new_tahap(svc, "2026-I", await add_rule(svc, quota=10))
    await generate(svc, tahap_id)
    await approve(svc, tahap_id)
    await feed(svc.runtime, [household_envelope("a0", 2, status="inactive", reason="moved")])
    url = f"/tahap/{tahap_id}/payment-lines"
    every, csv_rows, xlsx_rows = await _three_ways(svc, "prep", url)
    assert len(every) == 7
    assert csv_rows == _expected(every)
    assert same_sheet(xlsx_rows, _expected(every))
    # The list's filter applies to the export.
    held, csv_rows, xlsx_rows = await _three_ways(svc, "prep", f"{url}?status=on_hold")
    assert [r["household_id"] for r in held] == ["a0"]
    assert csv_rows == _expected(held)
    assert same_sheet(xlsx_rows, _expected(held))
    # Scope: a TKSK of kecamatan 13.71.01 exports what the JSON shows them, no line of 13.71.02.
    own, csv_rows, xlsx_rows = await _three_ways(svc, "tksk01", url)
    assert {r["kecamatan_code"] for r in own} == {"13.71.01"}
    assert len(own) == 4
    assert csv_rows == _expected(own)
    assert same_sheet(xlsx_rows, _expected(own))
    # The frozen list with its reasons, whole and scoped.
    for user, n in (("prep", 7), ("tksk01", 4)):
        listed, csv_rows, xlsx_rows = await _three_ways(svc, user, f"/tahap/{tahap_id}/list", LIST_COLUMNS)
        assert len(listed) == n
        assert csv_rows == _expected(listed, LIST_COLUMNS)
        assert same_sheet(xlsx_rows, _expected(listed, LIST_COLUMNS))
    # The break queue: a line paid while on hold, an unknown line (no wilayah: kota readers only).
    by_hh = {r["household_id"]: r for r in every}
    rows = [
        {"line_id": by_hh["a0"]["line_id"], "status": "paid", "amount": by_hh["a0"]["amount"], "reference": "=1+1"},
        {"line_id": 424242, "status": "paid", "amount": 1, "reference": "z"},
    ]
    report = await upload(svc, tahap_id, rows)
    url = f"/payer-reports/{report['id']}/errors"
    errors, csv_rows, xlsx_rows = await _three_ways(svc, "prep", url, ERROR_COLUMNS)
    assert [e["reason"] for e in errors] == ["invalid_from_on_hold", "unknown_line"]
    assert csv_rows == _expected(errors, ERROR_COLUMNS)
    assert same_sheet(xlsx_rows, _expected(errors, ERROR_COLUMNS))
    r = await svc.client.get(f"{url}?format=csv", headers=svc.users["tksk01"])
    assert r.status_code == 403
    r = await svc.client.post(f"/tahap/{tahap_id}/reconcile", headers=svc.users["prep"])
    assert r.status_code == 200, r.text
    for user, n in (("prep", 2), ("tksk01", 1)):
        found, csv_rows, xlsx_rows = await _three_ways(svc, user, f"/tahap/{tahap_id}/breaks", BREAK_COLUMNS)
        assert len(found) == n
        assert csv_rows == _expected(found, BREAK_COLUMNS)
        assert same_sheet(xlsx_rows, _expected(found, BREAK_COLUMNS))


@pytest.mark.infra
async def test_payment_line_exports_on_postgresql(pg_service: Service) -> None:
    await _flow(pg_service)


async def test_payment_line_exports_embedded(sqlite_service: Service) -> None:
    await _flow(sqlite_service)


async def test_an_unknown_format_is_a_problem_naming_the_field(sqlite_service: Service) -> None:
    r = await sqlite_service.client.get("/tahap/x/payment-lines?format=pdf", headers=sqlite_service.users["prep"])
    assert r.status_code == 422
    assert "format" in r.text
