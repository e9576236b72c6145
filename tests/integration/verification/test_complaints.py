"""Complaints (pengaduan): the life cycle per category with the linked action really created, masking and the
audited contact read, the SMS/WhatsApp webhook, idempotent intake, PII-free events, the dashboard summary and
SLA escalation by the scheduler with a moved clock."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.verification.app import create_app
from services.verification.complaints.models import complaint
from services.verification.complaints.service import escalate_overdue
from services.verification.groundchecks.models import ground_check
from services.verification.proposal_records import proposal
from services.verification.settings import VerificationSettings
from tests.integration.verification.helpers import KEC_A, KEC_B, KEL_A, KEL_B, Api, assert_pii_free, seed_family
from tests.support.api import running

pytestmark = pytest.mark.infra

PHONE = "+6281234567890"


async def _events(api: Api, event_type: str) -> list[dict[str, Any]]:
    outbox = api.runtime.definition.messaging.outbox
    async with api.runtime.sessions() as session:
        rows = (
            await session.execute(select(outbox.c.data).where(outbox.c.event_type == event_type).order_by(outbox.c.id))
        ).scalars()
        return [json.loads(r) for r in rows]


def _complaint(category: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "counter",
        "category": category,
        "description": "Keluhan warga di loket Dinsos",
        "contact_name": "Siti Rahmah",
        "contact_phone": PHONE,
    }
    return body | extra


async def _officers(api: Api) -> None:
    await api.officer("tksk-a", "tksk", KEC_A)
    await api.officer("tksk-b", "tksk", KEC_B)


async def test_inclusion_complaint_opens_a_ground_check_and_links_the_pending_sanggah(api: Api) -> None:
    await _officers(api)
    hid = await seed_family(api.runtime, kelurahan=KEL_A)
    operator = api.as_("operator_kelurahan", KEL_A, subject="op-a")
    verif = api.as_("verifikator", subject="verif-1")
    photo = await api.photo("new car")
    sanggah = {
        "household_id": hid,
        "objector_kelurahan_code": KEL_A,
        "grounds": "well_off",
        "photo": photo,
        "gps": {"lat": -0.94, "lon": 100.36},
    }
    objection = await api.call("POST", "/objections", operator, sanggah, expect=201)

    c = await api.call("POST", "/complaints", operator, _complaint("inclusion", household_id=hid), expect=201)
    assert (c["status"], c["kelurahan_code"], c["kecamatan_code"]) == ("received", KEL_A, KEC_A)
    assert c["objection_id"] == objection["id"]
    assert c["reference"].startswith("ADU-")
    assert len(c["reference"]) == 16
    assert datetime.fromisoformat(c["due_at"]) - datetime.fromisoformat(c["received_at"]) == timedelta(days=14)
    assert (c["contact_name"], c["contact_phone"], c["notifiable"]) == ("S. R.", "**********7890", True)
    assert c["sla_status"] == "on_time"

    # The kelurahan takes complaints but does not handle them; an inclusion complaint cannot start a usulan.
    await api.call("POST", f"/complaints/{c['id']}/assign", operator, {"officer_subject": "tksk-a"}, expect=403)
    far = await api.call("POST", f"/complaints/{c['id']}/assign", verif, {"officer_subject": "tksk-b"}, expect=422)
    assert (far["code"], far["errors"][0]["field"]) == ("officer_out_of_area", "officer_subject")
    c = await api.call("POST", f"/complaints/{c['id']}/assign", verif, {"officer_subject": "tksk-a"})
    assert (c["status"], c["assigned_to"]) == ("in_progress", "tksk-a")
    refused = await api.call("POST", f"/complaints/{c['id']}/actions", verif, {"action": "data_correction"}, expect=422)
    assert refused["code"] == "action_not_allowed"

    c = await api.call("POST", f"/complaints/{c['id']}/actions", verif, {"action": "ground_check"})
    check = await api.call("GET", f"/ground-checks/{c['ground_check_id']}", verif)
    # The kecamatan's TKSK gets it as any ground check (auto-assignment by area).
    assert (check["reason"], check["household_id"], check["status"]) == ("complaint", hid, "assigned")
    async with api.runtime.sessions() as session:
        origin = (
            await session.execute(select(ground_check.c.origin_ref).where(ground_check.c.id == c["ground_check_id"]))
        ).scalar_one()
    assert origin == f"complaint:{c['id']}"

    c = await api.call("POST", f"/complaints/{c['id']}/resolve", verif, {"reason": "not_eligible", "note": "checked"})
    assert (c["status"], c["close_reason"], c["closed_by"], c["sla_status"]) == (
        "resolved",
        "not_eligible",
        "verif-1",
        "closed",
    )
    again = await api.call("POST", f"/complaints/{c['id']}/reject", verif, {"reason": "unfounded"}, expect=409)
    assert (again["current_state"], again["allowed_actions"]) == ("resolved", [])

    received, taken, resolved = (
        await _events(api, "complaint.received"),
        await _events(api, "complaint.action_taken"),
        await _events(api, "complaint.resolved"),
    )
    assert [e["status"] for e in received + taken + resolved] == ["received", "in_progress", "resolved"]
    assert taken[0]["action_ref"] == f"ground_check:{c['ground_check_id']}"
    assert resolved[0]["reason"] == "not_eligible"
    for event in received + taken + resolved + await _events(api, "complaint.assigned"):
        assert_pii_free(event)
        assert (event["reference"], event["notifiable"], event["kelurahan_code"]) == (c["reference"], True, KEL_A)
        assert PHONE not in json.dumps(event)
        assert "Siti" not in json.dumps(event)


async def test_data_error_and_exclusion_complaints_start_a_data_correction_usulan(api: Api) -> None:
    hid = await seed_family(api.runtime, kelurahan=KEL_A)
    verif = api.as_("verifikator", subject="verif-1")
    for category in ("data_error", "exclusion"):
        c = await api.call("POST", "/complaints", verif, _complaint(category, household_id=hid), expect=201)
        c = await api.call("POST", f"/complaints/{c['id']}/actions", verif, {"action": "data_correction", "note": "KK"})
        assert c["status"] == "in_progress"
        usulan = await api.call("GET", f"/proposals/{c['proposal_id']}", verif)
        assert (usulan["kind"], usulan["household_id"], usulan["status"]) == ("data_correction", hid, "draft")
        assert usulan["note"] == f"complaint {c['reference']}: KK"
        c = await api.call("POST", f"/complaints/{c['id']}/resolve", verif, {"reason": "corrected"})
        assert c["status"] == "resolved"
    # Left out and not in the register at all: routed by the kelurahan; no family, so no usulan for it from here.
    c = await api.call("POST", "/complaints", verif, _complaint("exclusion", kelurahan_code=KEL_A), expect=201)
    refused = await api.call("POST", f"/complaints/{c['id']}/actions", verif, {"action": "ground_check"}, expect=422)
    assert "household_id" in refused["detail"]
    async with api.runtime.sessions() as session:
        kinds = (await session.execute(select(proposal.c.kind))).scalars().all()
    assert kinds == ["data_correction", "data_correction"]


async def test_payment_complaint_asks_disbursement_by_event_and_refers(api: Api) -> None:
    hid = await seed_family(api.runtime, kelurahan=KEL_A)
    verif = api.as_("verifikator", subject="verif-1")
    missing = await api.call("POST", "/complaints", verif, _complaint("payment", household_id=hid), expect=422)
    assert missing["errors"][0]["field"] == "payment_line_id"
    # Knowing the tahap only: the complaint is taken, but a payer inquiry needs the line.
    c = await api.call(
        "POST", "/complaints", verif, _complaint("payment", household_id=hid, tahap_code="PKH-2026-2"), expect=201
    )
    assert datetime.fromisoformat(c["due_at"]) - datetime.fromisoformat(c["received_at"]) == timedelta(days=5)
    refused = await api.call("POST", f"/complaints/{c['id']}/actions", verif, {"action": "payer_inquiry"}, expect=422)
    assert "payment_line_id" in refused["detail"]

    line = 4711
    body = _complaint("payment", household_id=hid, payment_line_id=line, tahap_code="PKH-2026-2")
    c = await api.call("POST", "/complaints", verif, body, expect=201)
    for action in ("payer_inquiry", "reconciliation_break"):
        c = await api.call("POST", f"/complaints/{c['id']}/actions", verif, {"action": action})
        assert (c["status"], c["referral"]) == ("in_progress", action)
    taken = [e for e in await _events(api, "complaint.action_taken") if e["complaint_id"] == str(c["id"])]
    assert [(e["action"], e["action_ref"], e["payment_line_id"], e["tahap_code"]) for e in taken] == [
        ("payer_inquiry", f"payer_inquiry:{line}", str(line), "PKH-2026-2"),
        ("reconciliation_break", f"reconciliation_break:{line}", str(line), "PKH-2026-2"),
    ]
    c = await api.call("POST", f"/complaints/{c['id']}/refer", verif, {"reason": "out_of_mandate", "note": "bank"})
    assert c["status"] == "referred"
    assert (await _events(api, "complaint.referred"))[0]["reason"] == "out_of_mandate"


async def test_officer_conduct_and_other_start_nothing_and_can_be_rejected(api: Api) -> None:
    verif = api.as_("verifikator", subject="verif-1")
    tksk = api.as_("tksk", KEC_A, subject="tksk-a")
    c = await api.call(
        "POST",
        "/complaints",
        tksk,
        _complaint("officer_conduct", kelurahan_code=KEL_A, channel="field_app"),
        expect=201,
    )
    assert datetime.fromisoformat(c["due_at"]) - datetime.fromisoformat(c["received_at"]) == timedelta(days=7)
    refused = await api.call("POST", f"/complaints/{c['id']}/actions", verif, {"action": "ground_check"}, expect=422)
    assert refused["code"] == "action_not_allowed"
    early = await api.call("POST", f"/complaints/{c['id']}/resolve", verif, {"reason": "corrected"}, expect=409)
    assert early["allowed_actions"] == ["act", "assign", "refer", "reject"]
    c = await api.call("POST", f"/complaints/{c['id']}/reject", verif, {"reason": "unfounded"})
    assert c["status"] == "rejected"
    other = await api.call("POST", "/complaints", verif, _complaint("other", kelurahan_code=KEL_A), expect=201)
    assert (await api.call("POST", f"/complaints/{other['id']}/refer", verif, {"reason": "out_of_mandate"}))[
        "status"
    ] == "referred"


async def test_bad_input_scope_and_anonymous(api: Api) -> None:
    hid = await seed_family(api.runtime, kelurahan=KEL_A)
    tksk_b = api.as_("tksk", KEC_B, subject="tksk-b")
    verif = api.as_("verifikator", subject="verif-1")
    bad = await api.call(
        "POST", "/complaints", verif, _complaint("other", kelurahan_code=KEL_A, anonymous=True), expect=422
    )
    assert bad["code"] == "validation"
    nowhere = await api.call("POST", "/complaints", verif, _complaint("other"), expect=422)
    assert nowhere["errors"][0]["field"] == "kelurahan_code"
    mismatch = await api.call(
        "POST", "/complaints", verif, _complaint("data_error", household_id=hid, kelurahan_code=KEL_B), expect=422
    )
    assert mismatch["code"] == "kelurahan_mismatch"
    await api.call("POST", "/complaints", tksk_b, _complaint("data_error", household_id=hid), expect=404)
    await api.call("POST", "/complaints", tksk_b, _complaint("other", kelurahan_code=KEL_A), expect=403)
    bad_phone = await api.call(
        "POST", "/complaints", verif, _complaint("other", kelurahan_code=KEL_A, contact_phone="call me"), expect=422
    )
    assert bad_phone["errors"][0]["field"].endswith("contact_phone")

    anon = {"channel": "call_centre", "category": "other", "description": "Tidak mau disebut", "anonymous": True}
    a = await api.call("POST", "/complaints", verif, anon | {"kelurahan_code": KEL_A}, expect=201)
    assert (a["anonymous"], a["notifiable"], a["contact_name"], a["contact_phone"]) == (True, False, None, None)
    assert (await _events(api, "complaint.received"))[-1]["notifiable"] is False
    # Another kecamatan's TKSK sees neither the complaint nor its counts.
    await api.call("GET", f"/complaints/{a['id']}", tksk_b, expect=404)
    assert (await api.call("GET", "/complaints", tksk_b))["total"] == 0
    assert (await api.call("GET", "/complaints/summary", tksk_b))["rows"] == []
    async with api.runtime.sessions() as session:
        stored = (await session.execute(select(complaint.c.reference))).scalars().all()
    assert len(stored) == 1  # refused complaints left nothing behind


async def test_contact_is_read_in_full_only_with_a_purpose_and_audited(api: Api) -> None:
    verif = api.as_("verifikator", subject="verif-1")
    c = await api.call("POST", "/complaints", verif, _complaint("other", kelurahan_code=KEL_A), expect=201)
    operator = api.as_("operator_kelurahan", KEL_A, subject="op-a")
    await api.call("GET", f"/complaints/{c['id']}/contact?purpose=callback", operator, expect=403)
    await api.call("GET", f"/complaints/{c['id']}/contact", verif, expect=422)
    contact = await api.call("GET", f"/complaints/{c['id']}/contact?purpose=call+back+about+tahap", verif)
    assert (contact["contact_name"], contact["contact_phone"]) == ("Siti Rahmah", PHONE)
    audit = api.runtime.definition.messaging.audit_log
    async with api.runtime.sessions() as session:
        rows = (
            await session.execute(
                select(audit.c.actor, audit.c.action, audit.c.record_id, audit.c.purpose).where(
                    audit.c.record_type == "complaint"
                )
            )
        ).all()
    assert [tuple(r) for r in rows] == [("verif-1", "read complainant contact", str(c["id"]), "call back about tahap")]


async def test_webhook_is_for_system_clients_and_a_redelivery_is_the_same_complaint(api: Api) -> None:
    message = {
        "channel": "whatsapp",
        "message_id": "wamid.HBgLNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjA",
        "sender": PHONE,
        "sender_name": "Budi",
        "text": "Bantuan tahap II belum saya terima",
        "kelurahan_code": KEL_A,
        "category": "payment",
    }
    await api.call("POST", "/complaints/webhook", api.as_("verifikator"), message, expect=403)
    system = api.as_("system", subject="wa-gateway")
    # A payment complaint by message names no payment line nor tahap: the gateway files it as 'other'.
    assert (await api.call("POST", "/complaints/webhook", system, message, expect=422))[
        "code"
    ] == "payment_ref_required"
    message["category"] = "other"
    first = await api.client.post("/complaints/webhook", headers=system, json=message)
    again = await api.client.post("/complaints/webhook", headers=system, json=message)
    assert (first.status_code, again.status_code, again.headers.get("Idempotent-Replayed")) == (201, 201, "true")
    assert first.json()["reference"] == again.json()["reference"]
    c = first.json()
    assert (c["channel"], c["external_ref"], c["contact_phone"], c["notifiable"]) == (
        "whatsapp",
        f"whatsapp:{message['message_id']}",
        "**********7890",
        True,
    )
    assert len(await _events(api, "complaint.received")) == 1
    counter = await api.call("POST", "/complaints/webhook", system, message | {"channel": "counter"}, expect=422)
    assert counter["code"] == "validation"


async def test_intake_with_an_idempotency_key_makes_one_complaint(api: Api) -> None:
    verif = api.as_("verifikator", subject="verif-1") | {"Idempotency-Key": "call-0001"}
    body = _complaint("other", kelurahan_code=KEL_A, channel="call_centre")
    first = await api.call("POST", "/complaints", verif, body, expect=201)
    second = await api.call("POST", "/complaints", verif, body, expect=201)
    assert first == second
    assert (await api.call("GET", "/complaints", verif))["total"] == 1
    # The caller quotes the reference number on the phone (lower case, spaces): the complaint is found.
    quoted = first["reference"].lower()
    found = await api.call("GET", f"/complaints?reference=+{quoted}+", verif)
    assert [c["id"] for c in found["items"]] == [first["id"]]


async def test_scheduler_escalates_overdue_complaints_and_the_summary_follows(api: Api) -> None:
    verif = api.as_("verifikator", subject="verif-1")
    fast = await api.call(
        "POST", "/complaints", verif, _complaint("payment", kelurahan_code=KEL_A, tahap_code="T2"), expect=201
    )
    slow = await api.call("POST", "/complaints", verif, _complaint("exclusion", kelurahan_code=KEL_B), expect=201)
    done = await api.call("POST", "/complaints", verif, _complaint("other", kelurahan_code=KEL_A), expect=201)
    await api.call("POST", f"/complaints/{done['id']}/reject", verif, {"reason": "duplicate"})
    received = datetime.fromisoformat(fast["received_at"])
    scheduler = api.runtime.scheduler
    now = {"t": received + timedelta(days=4)}
    scheduler.clock = lambda: now["t"]

    async def escalated_by_tick() -> dict[str, int] | None:
        runs = [r for r in await scheduler.tick() if r.job == "complaints-escalate"]
        return runs[0].counts if runs else None

    assert await escalated_by_tick() == {"escalated": 0, "overdue": 0}
    now["t"] = received + timedelta(days=6)  # payment SLA (5 days) passed; exclusion (14) not
    assert await escalated_by_tick() == {"escalated": 1, "overdue": 1}
    now["t"] += timedelta(hours=2)
    assert await escalated_by_tick() == {"escalated": 0, "overdue": 1}  # escalated once, not every hour
    now["t"] = received + timedelta(days=15)  # exclusion overdue; payment overdue by more than a further week
    assert await escalated_by_tick() == {"escalated": 2, "overdue": 2}

    f = await api.call("GET", f"/complaints/{fast['id']}", verif)
    s = await api.call("GET", f"/complaints/{slow['id']}", verif)
    assert (f["escalation_level"], s["escalation_level"]) == (2, 1)
    events = await _events(api, "complaint.escalated")
    assert sorted((e["reference"], e["escalation_level"]) for e in events) == sorted(
        [(fast["reference"], 1), (fast["reference"], 2), (slow["reference"], 1)]
    )
    for e in events:
        assert_pii_free(e)

    # By the wall clock nothing is overdue yet: the summary counts the SLA status as of now.
    summary = await api.call("GET", "/complaints/summary", verif)
    assert {(r["kecamatan_code"], r["category"], r["sla_status"], r["count"]) for r in summary["rows"]} == {
        (KEC_A, "payment", "on_time", 1),
        (KEC_A, "other", "closed", 1),
        (KEC_B, "exclusion", "on_time", 1),
    }
    # Moving the due date into the past (as time would) makes it overdue in the summary and the overdue list.
    async with api.runtime.sessions() as session, session.begin():
        await session.execute(
            complaint.update().where(complaint.c.id == fast["id"]).values(due_at=received - timedelta(days=1))
        )
    summary = await api.call("GET", "/complaints/summary", verif)
    assert (KEC_A, "payment", "overdue", 1) in {
        (r["kecamatan_code"], r["category"], r["sla_status"], r["count"]) for r in summary["rows"]
    }
    overdue = await api.call("GET", "/complaints?overdue=true", verif)
    assert [c["reference"] for c in overdue["items"]] == [fast["reference"]]
    assert overdue["items"][0]["sla_status"] == "overdue"


async def test_complaints_on_sqlite(sqlite_settings: Any) -> None:
    settings = sqlite_settings(VerificationSettings, run_workers=False, complaint_sla_days={"data_error": 1})
    app = create_app(settings)
    async with running(app) as client:
        api = Api(client, settings.data_dir, app)
        hid = await seed_family(api.runtime, kelurahan=KEL_A)
        verif = api.as_("verifikator", subject="verif-1")
        c = await api.call("POST", "/complaints", verif, _complaint("data_error", household_id=hid), expect=201)
        assert datetime.fromisoformat(c["due_at"]) - datetime.fromisoformat(c["received_at"]) == timedelta(days=1)
        c = await api.call("POST", f"/complaints/{c['id']}/actions", verif, {"action": "ground_check"})
        assert (await api.call("GET", f"/ground-checks/{c['ground_check_id']}", verif))["reason"] == "complaint"
        await api.call("POST", "/complaints", verif, _complaint("other", kelurahan_code=KEL_B), expect=201)
        summary = await api.call("GET", "/complaints/summary", verif)
        assert {(r["kecamatan_code"], r["category"], r["sla_status"]) for r in summary["rows"]} == {
            (KEC_A, "data_error", "due_soon"),
            (KEC_B, "other", "on_time"),
        }
        rt = api.runtime
        async with rt.sessions() as session, session.begin():
            later = datetime.fromisoformat(c["received_at"]) + timedelta(days=2)
            assert await escalate_overdue(session, outbox=rt.outbox, now=later) == 1
            assert await escalate_overdue(session, outbox=rt.outbox, now=later) == 0
        assert (await api.call("GET", f"/complaints/{c['id']}", verif))["escalation_level"] == 1
