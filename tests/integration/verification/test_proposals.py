"""Proposals (usulan) through the whole DOMAIN §4 state machine, over the API on PostgreSQL."""

from __future__ import annotations

import pytest

from services.verification.proposals.rules import cycle_of
from shared.events.envelope import utcnow
from tests.integration.verification.helpers import KEC_A, KEL_A, KEL_A2, Api, seed_family, visit_body

pytestmark = pytest.mark.infra


async def _officers(api: Api) -> None:
    await api.approver("verif-1")
    await api.officer("tksk-a", "tksk", KEC_A)
    await api.officer("psm-a", "psm", KEL_A)


async def test_kelurahan_proposal_walks_the_whole_machine(api: Api) -> None:
    await _officers(api)
    hid = await seed_family(api.runtime, kelurahan=KEL_A)
    operator = api.as_("operator_kelurahan", KEL_A, subject="op-a")
    verif = api.as_("verifikator", subject="verif-1")

    p = await api.call(
        "POST",
        "/proposals",
        operator,
        {"kind": "desil_review", "channel": "kelurahan", "household_id": hid},
        expect=201,
    )
    pid = p["id"]
    assert (p["status"], p["kelurahan_code"], p["kecamatan_code"]) == ("draft", KEL_A, KEC_A)
    assert p["allowed_actions"] == ["submit"]

    # An illegal transition names the current state and what it allows.
    bad = await api.call("POST", f"/proposals/{pid}/actions/enter", operator, expect=409)
    assert bad["code"] == "illegal_transition"
    assert (bad["current_state"], bad["allowed_actions"]) == ("draft", ["submit"])

    p = await api.call("POST", f"/proposals/{pid}/actions/submit", operator)
    assert p["status"] == "submitted"
    assert p["cycle"] == cycle_of(utcnow(), 14)

    m = await api.call("POST", "/muskel", operator, {"kelurahan_code": KEL_A, "held_on": "2026-11-05"}, expect=201)
    other = await api.call("POST", "/muskel", verif, {"kelurahan_code": KEL_A2, "held_on": "2026-11-05"}, expect=201)
    wrong = await api.call(
        "POST", f"/proposals/{pid}/actions/discuss", operator, {"muskel_id": other["id"]}, expect=422
    )
    assert wrong["code"] == "muskel_not_in_kelurahan"
    p = await api.call("POST", f"/proposals/{pid}/actions/discuss", operator, {"muskel_id": m["id"]})
    assert p["status"] == "muskel_discussed"

    unsigned = await api.call("POST", f"/proposals/{pid}/actions/muskel_approve", operator, expect=409)
    assert unsigned["code"] == "minutes_missing"
    m = await api.call(
        "POST", f"/muskel/{m['id']}/attachments", operator, await api.document("minutes") | {"signed_by": "lurah-a"}
    )
    await api.call("POST", f"/muskel/{m['id']}/attachments", operator, await api.document("list"))
    m = await api.call("GET", f"/muskel/{m['id']}", operator)
    assert m["minutes_signed_at"] is not None
    assert sorted(a["role"] for a in m["attachments"]) == ["list", "minutes"]

    p = await api.call("POST", f"/proposals/{pid}/actions/muskel_approve", operator)
    assert p["status"] == "muskel_approved"
    p = await api.call("POST", f"/proposals/{pid}/actions/enter", operator)
    assert p["status"] == "entered"

    # The completeness check is Dinsos' job, not the kelurahan's.
    await api.call("POST", f"/proposals/{pid}/actions/start_review", operator, expect=403)
    p = await api.call("POST", f"/proposals/{pid}/actions/start_review", verif)
    assert p["status"] == "completeness_check"
    await api.call("POST", f"/proposals/{pid}/actions/return", verif, expect=422)  # a return needs a comment
    p = await api.call("POST", f"/proposals/{pid}/actions/return", verif, {"comment": "KK photo missing"})
    assert (p["status"], p["review_comment"], p["allowed_actions"]) == ("returned", "KK photo missing", ["submit"])

    p = await api.call("POST", f"/proposals/{pid}/actions/submit", operator)
    assert p["status"] == "submitted"
    for action, body in (("discuss", {"muskel_id": m["id"]}), ("muskel_approve", None), ("enter", None)):
        p = await api.call("POST", f"/proposals/{pid}/actions/{action}", operator, body)
    await api.call("POST", f"/proposals/{pid}/actions/start_review", verif)
    p = await api.call("POST", f"/proposals/{pid}/actions/complete", verif)
    # complete → ground_check_scheduled at once: the check exists and went to the kecamatan's TKSK.
    assert p["status"] == "ground_check_scheduled"
    check = await api.call("GET", f"/ground-checks/{p['ground_check_id']}", verif)
    assert (check["reason"], check["status"], check["assigned_to"]) == ("proposal", "assigned", "tksk-a")
    assert check["household_id"] == hid

    tksk = api.as_("tksk", KEC_A, subject="tksk-a")
    await api.call(
        "POST",
        f"/ground-checks/{check['id']}/visit",
        tksk,
        visit_body("tidak_layak", "well_off", photo=await api.photo()),
    )
    await api.call("POST", f"/ground-checks/{check['id']}/approve", verif)
    p = await api.call("GET", f"/proposals/{pid}", operator)
    assert (p["status"], p["reason_code"]) == ("not_eligible", "well_off")
    final = await api.call("POST", f"/proposals/{pid}/actions/submit", operator, expect=409)
    assert (final["current_state"], final["allowed_actions"]) == ("not_eligible", [])


async def test_muskel_rejection_is_final(api: Api) -> None:
    operator = api.as_("operator_kelurahan", KEL_A, subject="op-a")
    p = await api.call(
        "POST", "/proposals", operator, {"kind": "new_family", "channel": "kelurahan", "kelurahan_code": KEL_A}, 201
    )
    m = await api.call("POST", "/muskel", operator, {"kelurahan_code": KEL_A, "held_on": "2026-11-02"}, expect=201)
    await api.call("POST", f"/proposals/{p['id']}/actions/submit", operator)
    await api.call("POST", f"/proposals/{p['id']}/actions/discuss", operator, {"muskel_id": m["id"]})
    p = await api.call("POST", f"/proposals/{p['id']}/actions/muskel_reject", operator, {"reason_code": "not_poor"})
    assert (p["status"], p["reason_code"], p["allowed_actions"]) == ("rejected", "not_poor", [])
    again = await api.call("POST", f"/proposals/{p['id']}/actions/muskel_approve", operator, expect=409)
    assert again["current_state"] == "rejected"


async def test_app_channel_enters_at_complete_and_new_family_gets_a_check(api: Api) -> None:
    system = api.as_("system", subject="cek-bansos")
    p = await api.call(
        "POST", "/proposals", system, {"kind": "new_family", "channel": "citizen_app", "kelurahan_code": KEL_A}, 201
    )
    p = await api.call("POST", f"/proposals/{p['id']}/actions/submit", system)
    assert p["status"] == "ground_check_scheduled"
    check = await api.call("GET", f"/ground-checks/{p['ground_check_id']}", api.as_("verifikator"))
    assert (check["household_id"], check["kelurahan_code"], check["status"]) == (None, KEL_A, "open")


async def test_proposal_input_errors_are_problems(api: Api) -> None:
    operator = api.as_("operator_kelurahan", KEL_A, subject="op-a")
    hid_b = await seed_family(api.runtime, kelurahan="13.71.09.1001")
    missing = await api.call("POST", "/proposals", operator, {"kind": "removal", "channel": "kelurahan"}, expect=422)
    assert missing["code"] == "household_required"
    # A family outside the operator's kelurahan is invisible to them.
    await api.call(
        "POST", "/proposals", operator, {"kind": "removal", "channel": "kelurahan", "household_id": hid_b}, expect=404
    )
    outside = await api.call(
        "POST", "/proposals", operator, {"kind": "new_family", "channel": "kelurahan", "kelurahan_code": KEL_A2}, 403
    )
    assert outside["code"] == "out_of_scope"
    bad = await api.call("POST", "/proposals", operator, {"kind": "nope", "channel": "kelurahan"}, expect=422)
    assert bad["status"] == 422
    await api.call("POST", "/proposals/999999/actions/submit", operator, expect=404)
    await api.call("POST", "/proposals/1/actions/fly", operator, expect=422)
