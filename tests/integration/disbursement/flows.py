"""Scenario steps shared by the PostgreSQL and SQLite tests (same service functions, both databases)."""

from __future__ import annotations

from typing import Any

from tests.integration.disbursement.conftest import Service
from tests.integration.disbursement.support import SIMPLE_RULE, csv_bytes


async def add_rule(svc: Service, programme: str = "SEMBAKO", **definition: Any) -> int:
    """Store a rule version for the programme; returns its version."""
    body = {**SIMPLE_RULE, "definition": {**SIMPLE_RULE["definition"], **definition}}
    r = await svc.client.post(f"/programmes/{programme}/rules", json=body, headers=svc.users["prep"])
    assert r.status_code == 201, r.text
    return int(r.json()["version"])


async def new_tahap(svc: Service, label: str, version: int, programme: str = "SEMBAKO") -> str:
    """A draft tahap; returns its id."""
    body = {"programme_code": programme, "label": label, "as_of": "2026-03-01", "rule_version": version}
    r = await svc.client.post("/tahap", json=body, headers=svc.users["prep"])
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def generate(svc: Service, tahap_id: str) -> dict[str, Any]:
    """Generate the list as the preparer."""
    r = await svc.client.post(f"/tahap/{tahap_id}/generate", headers=svc.users["prep"])
    assert r.status_code == 200, r.text
    return dict(r.json())


async def approve(svc: Service, tahap_id: str) -> None:
    """Approve as the kepala dinas."""
    r = await svc.client.post(f"/tahap/{tahap_id}/approve", headers=svc.users["kadis"])
    assert r.status_code == 200, r.text


async def lines(svc: Service, tahap_id: str) -> dict[str, dict[str, Any]]:
    """All lines of a tahap by household id (kota view)."""
    r = await svc.client.get(f"/tahap/{tahap_id}/payment-lines?limit=1000", headers=svc.users["prep"])
    assert r.status_code == 200, r.text
    return {x["household_id"]: x for x in r.json()}


async def upload(svc: Service, tahap_id: str, rows: list[dict[str, Any]], source: str = "bank") -> dict[str, Any]:
    """Import a payer CSV as the bank's system client."""
    files = {"file": ("report.csv", csv_bytes(rows), "text/csv")}
    r = await svc.client.post(
        f"/tahap/{tahap_id}/payer-reports", files=files, data={"source": source}, headers=svc.users["system"]
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def flag_hold_flow(svc: Service) -> None:
    """A holding flag keeps the family listed and counted, its line on hold until the flag clears."""
    from tests.integration.disbursement.support import feed, household_envelope

    await feed(
        svc.runtime,
        [
            household_envelope("h1", 1, desil=1),
            household_envelope("h2", 1, desil=2, open_flags=["member_needs_correction"]),
            household_envelope("h3", 1, desil=3, open_flags=["nik_not_matched"]),
        ],
    )
    bad = await svc.client.post(
        "/programmes/SEMBAKO/rules",
        json={**SIMPLE_RULE, "definition": {**SIMPLE_RULE["definition"], "holding_flags": ["unverified"]}},
        headers=svc.users["prep"],
    )
    assert bad.status_code == 422, bad.text
    assert "holding_flags" in bad.text
    assert "unverified" in bad.text
    tahap_id = await new_tahap(svc, "2026-H", await add_rule(svc))
    assert (await generate(svc, tahap_id))["listed_count"] == 3  # present and counted
    r = await svc.client.get(f"/tahap/{tahap_id}/list?limit=100", headers=svc.users["prep"])
    assert r.status_code == 200, r.text
    rows = {x["household_id"]: x for x in r.json()}
    h2 = rows["h2"]
    assert (h2["listed"], h2["reason"], h2["hold_reason"]) == (True, "eligible", "member_needs_correction")
    assert h2["holding_flags"] == ["member_needs_correction"]
    assert (rows["h1"]["hold_reason"], rows["h3"]["hold_reason"]) == (None, None)
    r = await svc.client.get("/programmes/SEMBAKO/explain/h2?as_of=2026-03-01", headers=svc.users["prep"])
    assert r.status_code == 200, r.text
    explained = r.json()
    assert (explained["listed"], explained["hold_reason"]) == (True, "member_needs_correction")
    assert {c["check"]: c["passed"] for c in explained["checks"]}["no_holding_flag"] is False
    by_hh = await lines(svc, tahap_id)
    assert (by_hh["h2"]["status"], by_hh["h2"]["hold_reason"]) == ("on_hold", "member_needs_correction")
    assert (by_hh["h1"]["status"], by_hh["h3"]["status"]) == ("planned", "planned")
    await approve(svc, tahap_id)
    # After approval: a conflicting death record holds h1; h2's correction is settled, its line is released.
    await feed(
        svc.runtime,
        [
            household_envelope("h1", 2, desil=1, open_flags=["death_record_conflict"]),
            household_envelope("h2", 2, desil=2),
        ],
    )
    by_hh = await lines(svc, tahap_id)
    assert (by_hh["h1"]["status"], by_hh["h1"]["hold_reason"]) == ("on_hold", "death_record_conflict")
    assert (by_hh["h2"]["status"], by_hh["h2"]["hold_reason"]) == ("planned", None)
    # A rule naming no holding flags pays flagged families as before.
    other = await new_tahap(svc, "2026-H2", await add_rule(svc, holding_flags=[]))
    await generate(svc, other)
    assert (await lines(svc, other))["h1"]["status"] == "planned"


async def complaint_break_flow(svc: Service) -> None:
    """A complaint that asks about a payment line (payer inquiry, reconciliation break) opens an entry of the
    tahap's break queue for that line, once however often the event arrives; other actions leave it alone."""
    from datetime import UTC, datetime

    from shared.events.envelope import EventEnvelope
    from tests.integration.disbursement.support import feed, household_envelope

    await feed(svc.runtime, [household_envelope(f"c{i}", 1, desil=1 + i) for i in range(3)])
    tahap_id = await new_tahap(svc, "2026-C", await add_rule(svc))
    await generate(svc, tahap_id)
    await approve(svc, tahap_id)
    by_hh = await lines(svc, tahap_id)
    now = datetime.now(UTC)

    def action(n: int, household: str, what: str, line_id: Any) -> EventEnvelope:
        return EventEnvelope(
            event_type="complaint.action_taken",
            source="verification",
            subject=household,
            aggregate_version=2,
            occurred_at=now,
            recorded_at=now,
            data={
                "reference": f"ADU-2612-TEST{n}",
                "complaint_id": str(n),
                "category": "payment",
                "channel": "call_centre",
                "status": "in_progress",
                "kecamatan_code": "13.71.01",
                "kelurahan_code": "13.71.01.1001",
                "household_id": household,
                "payment_line_id": None if line_id is None else str(line_id),
                "tahap_code": tahap_id,
                "notifiable": False,
                "due_at": now.isoformat(),
                "action": what,
                "action_ref": f"{what}:{line_id}",
                "occurred_at": now.isoformat(),
            },
        )

    inquiry = action(1, "c0", "payer_inquiry", by_hh["c0"]["line_id"])
    events = [
        inquiry,
        inquiry,  # redelivered
        action(2, "c1", "reconciliation_break", by_hh["c1"]["line_id"]),
        action(3, "c2", "ground_check", None),  # verification's own business
        action(4, "c2", "payer_inquiry", 987654),  # no such line: nothing to queue
    ]
    await feed(svc.runtime, events)
    r = await svc.client.get(f"/tahap/{tahap_id}/breaks", headers=svc.users["prep"])
    assert r.status_code == 200, r.text
    got = sorted((b["kind"], b["line_key"], b["household_id"], b["expected_amount"], b["status"]) for b in r.json())
    assert got == [
        ("complaint", "complaint:ADU-2612-TEST2", "c1", by_hh["c1"]["amount"], "open"),
        ("payer_inquiry", "complaint:ADU-2612-TEST1", "c0", by_hh["c0"]["amount"], "open"),
    ]
