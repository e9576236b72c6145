"""Payment instruction files from an approved tahap, and the payers' status files back, on PostgreSQL and SQLite."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from lxml import etree

from tests.integration.disbursement.conftest import Service
from tests.integration.disbursement.flows import add_rule, approve, generate, lines, new_tahap
from tests.integration.disbursement.support import feed, household_envelope
from tests.unit.disbursement.test_payment_files import pain002

XSD = Path(__file__).resolve().parents[2] / "contracts" / "iso20022" / "pain.001.001.09.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}


async def _approved_tahap_with_a_hold(svc: Service, programme: str) -> tuple[str, dict[str, dict[str, object]], str]:
    await feed(svc.runtime, [household_envelope(f"h{i}", 1, desil=1 + i % 5, members=1 + i) for i in range(6)])
    tahap_id = await new_tahap(svc, "2026-I", await add_rule(svc, programme=programme, quota=5), programme=programme)
    await generate(svc, tahap_id)
    await approve(svc, tahap_id)
    by_hh = await lines(svc, tahap_id)
    held = sorted(by_hh)[0]
    await feed(svc.runtime, [household_envelope(held, 2, status="inactive", reason="moved")])
    assert (await lines(svc, tahap_id))[held]["status"] == "on_hold"
    return tahap_id, by_hh, held


async def _build(svc: Service, tahap_id: str, kind: str | None = None) -> tuple[bytes, dict[str, str]]:
    params = {"kind": kind} if kind else {}
    r = await svc.client.post(f"/tahap/{tahap_id}/payment-file", params=params, headers=svc.users["prep"])
    assert r.status_code == 200, r.text
    return r.content, dict(r.headers)


async def _bank_flow(svc: Service) -> None:
    tahap_id, by_hh, held = await _approved_tahap_with_a_hold(svc, "SEMBAKO")
    data, headers = await _build(svc, tahap_id)
    doc = etree.fromstring(data)
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    assert schema.validate(doc), schema.error_log
    paid = {hh: x for hh, x in by_hh.items() if hh != held}
    ids = doc.xpath("//p:EndToEndId/text()", namespaces=NS)
    assert sorted(ids) == sorted(f"TPT-{x['line_id']}" for x in paid.values())
    assert f"TPT-{by_hh[held]['line_id']}" not in ids
    total = sum(int(str(x["amount"])) for x in paid.values())
    assert doc.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == str(total)
    assert (headers["x-tepat-control-count"], headers["x-tepat-control-sum"]) == (str(len(paid)), str(total))
    sha = hashlib.sha256(data).hexdigest()
    assert headers["x-tepat-file-sha256"] == sha
    # Regenerating gives the same bytes; the tahap records the file.
    assert (await _build(svc, tahap_id))[0] == data
    tahap = (await svc.client.get(f"/tahap/{tahap_id}", headers=svc.users["prep"])).json()
    assert (tahap["payment_file_kind"], tahap["payment_file_sha256"]) == ("pain.001.001.09", sha)
    assert (tahap["payment_file_count"], tahap["payment_file_total"]) == (len(paid), total)
    # The bank's pain.002 back: statuses land on the lines named by their end-to-end ids.
    first, second, *rest = sorted(paid)
    report = pain002(
        [(f"TPT-{paid[first]['line_id']}", "ACSC", "", str(paid[first]["amount"]))]
        + [(f"TPT-{paid[second]['line_id']}", "RJCT", "AC04", str(paid[second]["amount"]))]
        + [(f"TPT-{paid[h]['line_id']}", "ACSP", "", str(paid[h]["amount"])) for h in rest]
    )
    files = {"file": ("pain002.xml", report, "application/xml")}
    r = await svc.client.post(
        f"/tahap/{tahap_id}/payer-reports", files=files, data={"source": "bank"}, headers=svc.users["system"]
    )
    assert r.status_code == 201, r.text
    assert (r.json()["rows_applied"], r.json()["rows_error"]) == (len(paid), 0)
    after = await lines(svc, tahap_id)
    assert (after[first]["status"], after[first]["paid_amount"], after[first]["payer_reference"]) == (
        "paid",
        paid[first]["amount"],
        "S0",
    )
    assert (after[second]["status"], after[second]["failure_reason"]) == ("failed", "account_problem")
    assert {after[h]["status"] for h in rest} == {"at_payer"}
    assert after[held]["status"] == "on_hold"
    # Paid and failed lines leave the next file; the at_payer ones stay in it.
    data2, headers2 = await _build(svc, tahap_id)
    assert headers2["x-tepat-control-count"] == str(len(rest))
    assert etree.fromstring(data2).findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=NS) != doc.findtext(
        "p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=NS
    )


async def _pos_flow(svc: Service) -> None:
    tahap_id, by_hh, held = await _approved_tahap_with_a_hold(svc, "BLT_KESRA")
    data, headers = await _build(svc, tahap_id)
    assert headers["x-tepat-file-kind"] == "pos_csv_v1"
    rows = data.decode().split("\r\n")
    assert rows[0].startswith("no_urut;id_baris;referensi;")
    body = [r.split(";") for r in rows[1:-2]]
    paid = {hh: x for hh, x in by_hh.items() if hh != held}
    assert sorted(int(r[1]) for r in body) == sorted(int(str(x["line_id"])) for x in paid.values())
    total = sum(int(r[8]) for r in body)
    assert rows[-2].split(";")[:3] == ["TOTAL", str(len(paid)), str(total)]
    assert (await _build(svc, tahap_id))[0] == data
    # Pos returns its file with status columns added.
    back = [rows[0] + ";status;tanggal;referensi_pos"] + [
        ";".join(r) + f";tersalur;2026-03-05;POS-{r[1]}" for r in body
    ]
    back.append(rows[-2])
    files = {"file": ("pos.csv", ("\r\n".join(back) + "\r\n").encode(), "text/csv")}
    r = await svc.client.post(
        f"/tahap/{tahap_id}/payer-reports", files=files, data={"source": "pos"}, headers=svc.users["system"]
    )
    assert r.status_code == 201, r.text
    assert (r.json()["rows_applied"], r.json()["rows_error"]) == (len(paid), 0)
    after = await lines(svc, tahap_id)
    assert {hh: after[hh]["status"] for hh in paid} == dict.fromkeys(paid, "paid")


async def _refusals(svc: Service) -> None:
    await feed(svc.runtime, [household_envelope("x1", 1, desil=1)])
    tahap_id = await new_tahap(svc, "2026-II", await add_rule(svc, quota=5))
    await generate(svc, tahap_id)
    r = await svc.client.post(f"/tahap/{tahap_id}/payment-file", headers=svc.users["prep"])
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "invalid_state"
    r = await svc.client.post(f"/tahap/{tahap_id}/payment-file?kind=mt940", headers=svc.users["prep"])
    assert r.status_code == 422
    assert "kind" in r.text
    r = await svc.client.post(f"/tahap/{tahap_id}/payment-file", headers=svc.users["tksk01"])
    assert r.status_code == 403


@pytest.mark.infra
async def test_pain001_and_pain002_on_postgresql(pg_service: Service) -> None:
    await _bank_flow(pg_service)


@pytest.mark.infra
async def test_pos_csv_and_status_back_on_postgresql(pg_service: Service) -> None:
    await _pos_flow(pg_service)


async def test_pain001_and_pain002_embedded(sqlite_service: Service) -> None:
    await _bank_flow(sqlite_service)


async def test_pos_csv_and_status_back_embedded(sqlite_service: Service) -> None:
    await _pos_flow(sqlite_service)


async def test_payment_file_refusals_embedded(sqlite_service: Service) -> None:
    await _refusals(sqlite_service)
