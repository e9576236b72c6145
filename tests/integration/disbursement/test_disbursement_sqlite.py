"""The same service functions in the embedded mode (SQLite, in-process bus)."""

from __future__ import annotations

import hashlib
import json
import uuid

from services.disbursement.programmes.rules import list_hash_lines
from services.disbursement.programmes.seed import national_programmes
from tests.integration.disbursement.agreement import assert_sql_agrees_with_function
from tests.integration.disbursement.conftest import Service
from tests.integration.disbursement.flows import (
    add_rule,
    approve,
    complaint_break_flow,
    flag_hold_flow,
    generate,
    lines,
    new_tahap,
    upload,
)
from tests.integration.disbursement.support import feed, household_envelope


async def test_embedded_flow_generate_hold_import_reconcile(sqlite_service: Service) -> None:
    svc = sqlite_service
    await feed(svc.runtime, [household_envelope(f"h{i}", 1, desil=1 + i % 5, members=1 + i) for i in range(8)])
    tahap_id = await new_tahap(svc, "2026-I", await add_rule(svc, quota=5))
    result = await generate(svc, tahap_id)
    listed = await svc.rows(
        "SELECT l.list_rank, l.household_id, l.amount FROM tahap_list l JOIN tahap_key k ON k.key = l.tahap_key"
        " WHERE k.tahap_id = :t AND l.listed ORDER BY l.list_rank",
        t=tahap_id,
    )
    assert result["listed_count"] == 5 == len(listed)
    assert result["list_hash"] == hashlib.sha256(list_hash_lines([tuple(r) for r in listed]).encode()).hexdigest()
    await approve(svc, tahap_id)
    by_hh = await lines(svc, tahap_id)
    assert len(by_hh) == 5
    held, paid = sorted(by_hh)[:2]
    await feed(svc.runtime, [household_envelope(held, 2, status="inactive", reason="moved")])
    rows = [
        {"line_id": by_hh[held]["line_id"], "status": "paid", "amount": 600000, "reference": "x"},
        {"line_id": by_hh[paid]["line_id"], "status": "paid", "amount": 600000, "reference": "y"},
        {"line_id": 424242, "status": "paid", "amount": 600000, "reference": "z"},
    ]
    report = await upload(svc, tahap_id, rows)
    assert (report["rows_applied"], report["rows_error"]) == (1, 2)
    assert (await upload(svc, tahap_id, rows))["already_imported"] is True
    r = await svc.client.post(f"/tahap/{tahap_id}/reconcile", headers=svc.users["prep"])
    assert r.json()["breaks_open"] == {"paid_while_on_hold": 1, "unknown_line": 1}
    after = await lines(svc, tahap_id)
    assert after[held]["status"] == "on_hold"
    assert after[paid]["status"] == "paid"
    # The rule version, 5 enrolments, 1 hold, 1 payment: distinct version-4 uuids, numbered within each statement.
    event_ids = [r[0] for r in await svc.rows("SELECT event_id FROM outbox")]
    assert len(set(event_ids)) == len(event_ids) == 8
    assert all(uuid.UUID(e).version == 4 and str(uuid.UUID(e)) == e for e in event_ids)


async def test_embedded_sql_rule_agrees_with_the_plain_function(sqlite_service: Service) -> None:
    await assert_sql_agrees_with_function(sqlite_service, n=200)


async def test_holding_flag_lists_the_family_and_holds_its_line_until_cleared(sqlite_service: Service) -> None:
    await flag_hold_flow(sqlite_service)


async def test_the_migrations_seed_the_programmes_of_the_seed_file(sqlite_service: Service) -> None:
    seed = national_programmes()
    stored = await sqlite_service.rows(
        "SELECT programme_code, effective_from, definition FROM rule_version WHERE created_by = 'seed' ORDER BY id"
    )
    assert [r[0] for r in stored] == [p.code for p in seed.programmes]
    for (_code, effective_from, definition), programme in zip(stored, seed.programmes, strict=True):
        assert str(effective_from) == programme.effective_from.isoformat()
        assert json.loads(definition) == programme.definition


async def test_programme_rule_and_tahap_lists(sqlite_service: Service) -> None:
    svc = sqlite_service
    programmes = (await svc.client.get("/programmes", headers=svc.users["prep"])).json()
    assert {p["code"] for p in programmes} >= {"PKH", "SEMBAKO", "PBI_JK", "BLT_KESRA"}
    rules = (await svc.client.get("/programmes/PKH/rules", headers=svc.users["prep"])).json()
    assert [(r["version"], r["definition"]["desil_max"]) for r in rules] == [(1, 4)]
    assert (await svc.client.get("/programmes/NOPE/rules", headers=svc.users["prep"])).status_code == 404
    assert (await svc.client.get("/tahap", headers=svc.users["prep"])).json() == []
    tahap_id = await new_tahap(svc, "2026-I", await add_rule(svc, quota=5))
    listed = (await svc.client.get("/tahap", params={"programme_code": "SEMBAKO"}, headers=svc.users["prep"])).json()
    assert [t["id"] for t in listed] == [tahap_id]


async def test_a_complaint_about_a_payment_line_opens_a_break_queue_entry(sqlite_service: Service) -> None:
    await complaint_break_flow(sqlite_service)
