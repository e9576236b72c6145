"""Ground checks over the API: assignment, visits, four-eyes approval, return, cancel, overdue, workload, scope."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from services.verification.groundchecks import service as checks
from services.verification.groundchecks.models import ground_check
from shared.auth.principal import Principal, Role
from shared.events.envelope import utcnow
from shared.http.problems import ProblemError
from tests.integration.verification.helpers import (
    KEC_A,
    KEC_B,
    KEL_A,
    KEL_A2,
    KEL_B,
    Api,
    assert_pii_free,
    seed_family,
    visit_body,
)

pytestmark = pytest.mark.infra


async def _seed(api: Api) -> None:
    boss = api.as_("verifikator", subject="verif-1")
    for subject, role, wilayah, own in (
        ("tksk-a", "tksk", KEC_A, None),
        ("tksk-b", "tksk", KEC_B, None),
        ("psm-a", "psm", KEL_A, None),
        ("psm-a2", "psm", KEL_A2, None),
        ("pkh-a", "pendamping_pkh", KEC_A, None),
        ("verif-1", "verifikator", "13.71", None),
        ("verif-2", "verifikator", "13.71", "hh-own"),
    ):
        body = {"subject": subject, "role": role, "wilayah_code": wilayah, "household_id": own}
        await api.call("PUT", f"/officers/{subject}", boss, body)


async def _flag_check(api: Api, hid: str | None = None, kelurahan: str = KEL_A) -> dict[str, object]:
    """A family whose new deceased_dukcapil flag opened a check."""
    hid = await seed_family(api.runtime, hid, kelurahan=kelurahan, flags=["deceased_dukcapil"])
    page = await api.call("GET", f"/ground-checks?household_id={hid}", api.as_("verifikator"))
    assert page["total"] == 1
    item: dict[str, object] = page["items"][0]
    return item


async def test_visit_approve_emits_outcome(api: Api) -> None:
    await _seed(api)
    check = await _flag_check(api)
    assert (check["reason"], check["status"], check["assigned_to"]) == ("flag_deceased_dukcapil", "assigned", "tksk-a")
    cid = check["id"]
    tksk, psm = api.as_("tksk", KEC_A, subject="tksk-a"), api.as_("psm", KEL_A, subject="psm-a")
    verif = api.as_("verifikator", subject="verif-1")

    # Re-assignment to a PSM of the same kelurahan; a PSM of another kelurahan is out of area.
    far = await api.call("POST", f"/ground-checks/{cid}/assign", tksk, {"officer_subject": "psm-a2"}, expect=422)
    assert far["code"] == "officer_out_of_area"
    c = await api.call("POST", f"/ground-checks/{cid}/assign", tksk, {"officer_subject": "psm-a"})
    assert (c["status"], c["assigned_to"], c["assigned_role"]) == ("assigned", "psm-a", "psm")

    # Only the assignee submits; approval before a visit is illegal.
    await api.call("POST", f"/ground-checks/{cid}/visit", tksk, visit_body(), expect=403)
    early = await api.call("POST", f"/ground-checks/{cid}/approve", verif, expect=409)
    assert (early["current_state"], early["allowed_actions"]) == ("assigned", ["assign", "cancel", "submit_visit"])
    invalid = visit_body("tidak_layak")  # no reason code
    problem = await api.call("POST", f"/ground-checks/{cid}/visit", psm, invalid, expect=422)
    assert problem["code"] == "validation"
    c = await api.call("POST", f"/ground-checks/{cid}/visit", psm, visit_body("tidak_layak", "deceased"))
    assert (c["status"], c["outcome"], c["outcome_reason"], c["submitted_by"]) == (
        "visited",
        "tidak_layak",
        "deceased",
        "psm-a",
    )
    assert c["questionnaire"]["electricity_va"] == 900
    assert len(c["evidence_hash"]) == 64

    # Returned for rework goes back to the assignee, then approval.
    c = await api.call("POST", f"/ground-checks/{cid}/return", verif, {"comment": "photo blurred"})
    assert (c["status"], c["returned_count"], c["review_comment"]) == ("assigned", 1, "photo blurred")
    c = await api.call("POST", f"/ground-checks/{cid}/visit", psm, visit_body("tidak_layak", "deceased"))
    c = await api.call("POST", f"/ground-checks/{cid}/approve", verif)
    assert (c["status"], c["decided_by"]) == ("approved", "verif-1")
    again = await api.call("POST", f"/ground-checks/{cid}/approve", verif, expect=409)
    assert (again["current_state"], again["allowed_actions"]) == ("approved", [])

    outbox = api.runtime.definition.messaging.outbox
    async with api.runtime.sessions() as session:
        rows = (await session.execute(select(outbox).where(outbox.c.event_type == "verification.completed"))).all()
    assert len(rows) == 1
    data = json.loads(rows[0].data)
    assert data["household_id"] == check["household_id"]
    assert (data["outcome"], data["reason"], data["officer_role"], data["check_id"]) == (
        "tidak_layak",
        "deceased",
        "psm",
        str(cid),
    )
    assert data["evidence_hash"] == c["evidence_hash"]
    assert_pii_free(data)


async def test_four_eyes(api: Api) -> None:
    await _seed(api)
    own = await _flag_check(api, "hh-own")
    other = await _flag_check(api)
    tksk = api.as_("tksk", KEC_A, subject="tksk-a")
    for c in (own, other):
        await api.call("POST", f"/ground-checks/{c['id']}/visit", tksk, visit_body())

    # verif-2's own family (officer table) is hh-own: refused, while verif-1 may approve it.
    refused = await api.call(
        "POST", f"/ground-checks/{own['id']}/approve", api.as_("verifikator", subject="verif-2"), expect=403
    )
    assert refused["code"] == "four_eyes"
    assert "own family" in refused["detail"]

    # Self-approval: the submitter cannot approve (rule enforced in the service whatever the role grants).
    async with api.runtime.sessions() as session, session.begin():
        with pytest.raises(ProblemError) as exc:
            await checks.approve_check(
                session,
                outbox=api.runtime.outbox,
                principal=Principal("tksk-a", Role.TKSK, KEC_A),
                check_id=int(str(other["id"])),
            )
    assert (exc.value.status, exc.value.code) == (403, "four_eyes")
    # A TKSK has no approval permission at all over the API.
    await api.call("POST", f"/ground-checks/{other['id']}/approve", tksk, expect=403)

    await api.call("POST", f"/ground-checks/{own['id']}/approve", api.as_("verifikator", subject="verif-1"))
    await api.call("POST", f"/ground-checks/{other['id']}/approve", api.as_("verifikator", subject="verif-2"))


async def test_who_entered_the_proposal_does_not_approve_its_check(api: Api) -> None:
    await _seed(api)
    hid = await seed_family(api.runtime)
    verif1 = api.as_("verifikator", subject="verif-1")
    p = await api.call(
        "POST", "/proposals", verif1, {"kind": "data_correction", "channel": "dinsos_counter", "household_id": hid}, 201
    )
    # The counter proposal still goes through the kelurahan's muskel in this configuration.
    operator = api.as_("operator_kelurahan", KEL_A, subject="op-a")
    m = await api.call("POST", "/muskel", operator, {"kelurahan_code": KEL_A, "held_on": "2026-11-03"}, expect=201)
    await api.call(
        "POST",
        f"/muskel/{m['id']}/attachments",
        operator,
        {"role": "minutes", "sha256": "a" * 64, "size_bytes": 10, "media_type": "application/pdf"},
    )
    for action, body in (
        ("submit", None),
        ("discuss", {"muskel_id": m["id"]}),
        ("muskel_approve", None),
        ("enter", None),
    ):
        await api.call("POST", f"/proposals/{p['id']}/actions/{action}", operator, body)
    await api.call("POST", f"/proposals/{p['id']}/actions/start_review", verif1)
    p = await api.call("POST", f"/proposals/{p['id']}/actions/complete", verif1)
    await api.call(
        "POST", f"/ground-checks/{p['ground_check_id']}/visit", api.as_("tksk", KEC_A, subject="tksk-a"), visit_body()
    )
    refused = await api.call("POST", f"/ground-checks/{p['ground_check_id']}/approve", verif1, expect=403)
    assert "entered the proposal" in refused["detail"]
    await api.call("POST", f"/ground-checks/{p['ground_check_id']}/approve", api.as_("verifikator", subject="verif-2"))
    assert (await api.call("GET", f"/proposals/{p['id']}", verif1))["status"] == "eligible"


async def test_cancel_overdue_and_workload(api: Api) -> None:
    await _seed(api)
    a = await _flag_check(api)
    b = await _flag_check(api, kelurahan=KEL_B)
    verif = api.as_("verifikator", subject="verif-1")
    await api.call("POST", f"/ground-checks/{a['id']}/cancel", verif, {"reason": "family merged"})
    late = await api.call("POST", f"/ground-checks/{a['id']}/cancel", verif, {"reason": "again"}, expect=409)
    assert late["current_state"] == "cancelled"

    async with api.runtime.sessions() as session, session.begin():
        await session.execute(
            update(ground_check).where(ground_check.c.id == b["id"]).values(due_at=utcnow() - timedelta(days=1))
        )
    overdue = await api.call("GET", "/ground-checks/overdue", verif)
    assert [c["id"] for c in overdue["items"]] == [b["id"]]
    assert overdue["items"][0]["overdue"] is True
    # The TKSK of kecamatan A neither sees nor counts B's overdue check.
    assert (await api.call("GET", "/ground-checks/overdue", api.as_("tksk", KEC_A, subject="tksk-a")))["total"] == 0

    work = {r["officer"]: r for r in await api.call("GET", "/ground-checks/workload", verif)}
    assert work["tksk-a"]["counts"] == {"cancelled": 1}
    assert (work["tksk-b"]["counts"], work["tksk-b"]["overdue"], work["tksk-b"]["role"]) == ({"assigned": 1}, 1, "tksk")


async def test_scope_on_list_count_and_action(api: Api) -> None:
    await _seed(api)
    a = await _flag_check(api, kelurahan=KEL_A)
    a2 = await _flag_check(api, kelurahan=KEL_A2)
    b = await _flag_check(api, kelurahan=KEL_B)
    tksk_a = api.as_("tksk", KEC_A, subject="tksk-a")
    psm_a = api.as_("psm", KEL_A, subject="psm-a")

    page = await api.call("GET", "/ground-checks", tksk_a)
    assert (page["total"], {c["id"] for c in page["items"]}) == (2, {a["id"], a2["id"]})
    page = await api.call("GET", "/ground-checks", psm_a)
    assert (page["total"], [c["id"] for c in page["items"]]) == (1, [a["id"]])
    assert (await api.call("GET", "/ground-checks", api.as_("kepala_dinas")))["total"] == 3
    # Asking for the other kecamatan explicitly still returns nothing.
    assert (await api.call("GET", f"/ground-checks?kelurahan_code={KEC_B}", tksk_a))["total"] == 0

    await api.call("GET", f"/ground-checks/{b['id']}", tksk_a, expect=404)
    await api.call("POST", f"/ground-checks/{b['id']}/assign", tksk_a, {"officer_subject": "tksk-a"}, expect=404)
    await api.call("GET", f"/ground-checks/{a2['id']}", psm_a, expect=404)
    work = await api.call("GET", "/ground-checks/workload", tksk_a)
    assert {r["officer"] for r in work} == {"tksk-a"}
    officers = {o["subject"] for o in await api.call("GET", "/officers", psm_a)}
    assert officers == {"psm-a"}
    # Seeding an officer is a verifikator's job, and only inside their own scope.
    await api.call("PUT", "/officers/x", tksk_a, {"subject": "x", "role": "psm", "wilayah_code": KEL_A}, expect=403)

    counts = await api.call("GET", "/proposals/counts", tksk_a)
    assert counts == {}
    await api.call(
        "POST",
        "/proposals",
        api.as_("operator_kelurahan", KEL_B, subject="op-b"),
        {"kind": "new_family", "channel": "kelurahan", "kelurahan_code": KEL_B},
        201,
    )
    assert await api.call("GET", "/proposals/counts", tksk_a) == {}
    assert (await api.call("GET", "/proposals", tksk_a))["total"] == 0
    assert await api.call("GET", "/proposals/counts", api.as_("auditor")) == {"draft": 1}


async def test_a_death_record_conflict_asks_the_kecamatans_tksk_for_a_ground_check(api: Api) -> None:
    """A death-list entry that contradicts the register is checked on the ground, not taken as a death."""
    await _seed(api)
    hid = await seed_family(api.runtime, kelurahan=KEL_B, flags=["death_record_conflict"])
    page = await api.call("GET", f"/ground-checks?household_id={hid}", api.as_("verifikator"))
    assert [(c["reason"], c["status"], c["assigned_to"]) for c in page["items"]] == [
        ("flag_death_record_conflict", "assigned", "tksk-b")
    ]
    mine = await api.call("GET", f"/ground-checks?household_id={hid}", api.as_("tksk", KEC_B, subject="tksk-b"))
    assert mine["total"] == 1
