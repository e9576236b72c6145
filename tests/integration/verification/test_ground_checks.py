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
from shared.privacy.digest import nik_digest
from tests.integration.verification.helpers import (
    KEC_A,
    KEC_B,
    KEL_A,
    KEL_A2,
    KEL_B,
    Api,
    assert_pii_free,
    officer_nik,
    seed_family,
    visit_body,
)

pytestmark = pytest.mark.infra


OWN_FAMILY = ["1371015203850002", officer_nik("verif-2")]


async def _seed(api: Api) -> None:
    for subject, role, wilayah in (
        ("tksk-a", "tksk", KEC_A),
        ("tksk-b", "tksk", KEC_B),
        ("psm-a", "psm", KEL_A),
        ("psm-a2", "psm", KEL_A2),
        ("pkh-a", "pendamping_pkh", KEC_A),
    ):
        await api.officer(subject, role, wilayah)
    await api.approver("verif-1")
    # verif-2 is a member of hh-own: the registry's event of that family carries the digest of verif-2's NIK.
    await seed_family(api.runtime, "hh-own", niks=OWN_FAMILY)
    await api.officer("verif-2", "verifikator", "13.71", nik=officer_nik("verif-2"))


async def _flag_check(
    api: Api, hid: str | None = None, kelurahan: str = KEL_A, niks: list[str] | None = None, version: int = 1
) -> dict[str, object]:
    """A family whose new deceased_dukcapil flag opened a check (`niks`: its members' NIKs)."""
    hid = await seed_family(
        api.runtime, hid, kelurahan=kelurahan, flags=["deceased_dukcapil"], niks=niks, version=version
    )
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
    await api.call("POST", f"/ground-checks/{cid}/visit", tksk, visit_body(photo=await api.photo()), expect=403)
    early = await api.call("POST", f"/ground-checks/{cid}/approve", verif, expect=409)
    assert (early["current_state"], early["allowed_actions"]) == ("assigned", ["assign", "cancel", "submit_visit"])
    invalid = visit_body("tidak_layak", photo=await api.photo())  # no reason code
    problem = await api.call("POST", f"/ground-checks/{cid}/visit", psm, invalid, expect=422)
    assert problem["code"] == "validation"
    c = await api.call(
        "POST", f"/ground-checks/{cid}/visit", psm, visit_body("tidak_layak", "deceased", photo=await api.photo())
    )
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
    c = await api.call(
        "POST", f"/ground-checks/{cid}/visit", psm, visit_body("tidak_layak", "deceased", photo=await api.photo())
    )
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


async def _visited_own_and_other(api: Api) -> tuple[dict[str, object], dict[str, object]]:
    """Officers seeded; visited checks of verif-2's own family (hh-own) and of another family."""
    await _seed(api)
    own = await _flag_check(api, "hh-own", niks=OWN_FAMILY, version=2)
    other = await _flag_check(api)
    tksk = api.as_("tksk", KEC_A, subject="tksk-a")
    for c in (own, other):
        await api.call("POST", f"/ground-checks/{c['id']}/visit", tksk, visit_body(photo=await api.photo()))
    return own, other


async def test_four_eyes(api: Api) -> None:
    own, other = await _visited_own_and_other(api)
    tksk = api.as_("tksk", KEC_A, subject="tksk-a")

    # verif-2's NIK is a member of hh-own in the registry's data: refused, while verif-1 may approve it.
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


async def test_the_approver_cannot_switch_the_four_eyes_rule_off(api: Api) -> None:
    own, other = await _visited_own_and_other(api)
    verif2 = api.as_("verifikator", subject="verif-2")
    kadis = api.as_("kepala_dinas", subject="kadis")

    # verif-2 swaps their NIK for someone else's (or declares no family): approvers may not edit officer records.
    for dodge in ({"nik": "1371015203850002"}, {"nik": officer_nik("x"), "no_registered_family": True}):
        body = {"subject": "verif-2", "role": "verifikator", "wilayah_code": "13.71", **dodge}
        refused = await api.call("PUT", "/officers/verif-2", verif2, body, expect=403)
        assert refused["code"] == "forbidden"
    refused = await api.call("POST", f"/ground-checks/{own['id']}/approve", verif2, expect=403)
    assert (refused["code"], "own family" in refused["detail"]) == ("four_eyes", True)
    # Nor may the managing role edit its own record (the facts a control checks it against).
    own_record = {"subject": "kadis", "role": "kepala_dinas", "wilayah_code": "13.71", "nik": officer_nik("kadis")}
    refused = await api.call("PUT", "/officers/kadis", kadis, own_record, expect=403)
    assert refused["code"] == "own_record"
    # A household_id in the officer record is no longer a field at all: the family comes from the registry.
    typed = {"subject": "verif-2", "role": "verifikator", "wilayah_code": "13.71", "household_id": "hh-elsewhere"}
    refused = await api.call("PUT", "/officers/verif-2", kadis, typed, expect=422)
    assert refused["errors"][0]["field"] == "household_id"
    # The dinas cannot declare verif-2 family-less while the registry lists their NIK in hh-own.
    untrue = {"subject": "verif-2", "role": "verifikator", "wilayah_code": "13.71", "no_registered_family": True}
    refused = await api.call("PUT", "/officers/verif-2", kadis, untrue, expect=422)
    assert (refused["code"], refused["errors"][0]["field"]) == ("officer_in_registered_family", "no_registered_family")
    refused = await api.call("POST", f"/ground-checks/{own['id']}/approve", verif2, expect=403)
    assert refused["code"] == "four_eyes"

    # No officer record, one without a NIK, or a NIK found in no family and no declaration: no approval.
    stranger = api.as_("verifikator", subject="verif-9")
    refused = await api.call("POST", f"/ground-checks/{other['id']}/approve", stranger, expect=409)
    assert (refused["code"], "not a registered officer" in refused["detail"]) == ("approver_family_unknown", True)
    await api.officer("verif-9", "verifikator", "13.71")
    refused = await api.call("POST", f"/ground-checks/{other['id']}/approve", stranger, expect=409)
    assert (refused["code"], "NIK is not recorded" in refused["detail"]) == ("approver_family_unknown", True)
    nik9 = {"subject": "verif-9", "role": "verifikator", "wilayah_code": "13.71", "no_registered_family": True}
    refused = await api.call("PUT", "/officers/verif-9", kadis, nik9, expect=422)
    assert refused["errors"][0]["field"] == "nik"
    await api.officer("verif-9", "verifikator", "13.71", nik=officer_nik("verif-9"))
    refused = await api.call("POST", f"/ground-checks/{other['id']}/approve", stranger, expect=409)
    assert (refused["code"], "in no family" in refused["detail"]) == ("approver_family_unknown", True)
    await api.officer("verif-9", "verifikator", "13.71", no_registered_family=True, active=False)
    refused = await api.call("POST", f"/ground-checks/{other['id']}/approve", stranger, expect=409)
    assert "inactive" in refused["detail"]
    for wrong in ("13710145059", "1371014513900001", "1371014505900000"):  # short, month 13, serial 0000
        bad = {"subject": "verif-9", "role": "psm", "wilayah_code": "13.71", "nik": wrong}
        refused = await api.call("PUT", "/officers/verif-9", kadis, bad, expect=422)
        assert (refused["code"], refused["errors"][0]["field"]) == ("validation", "nik")
    async with api.runtime.sessions() as session:
        states = {r.id: r.status for r in await session.execute(select(ground_check.c.id, ground_check.c.status))}
    assert (states[own["id"]], states[other["id"]]) == ("visited", "visited")

    # The update kept the NIK recorded at registration: declared and active, verif-9 may approve.
    await api.officer("verif-9", "verifikator", "13.71", no_registered_family=True)
    assert (await api.call("POST", f"/ground-checks/{other['id']}/approve", stranger))["status"] == "approved"


async def test_the_approvers_family_comes_from_the_registry_not_the_officer_record(api: Api) -> None:
    await _seed(api)
    # verif-3 was registered as family-less; later the registry lists their NIK in a family (a KK change).
    nik3 = officer_nik("verif-3")
    await api.officer("verif-3", "verifikator", "13.71", nik=nik3, no_registered_family=True)
    verif3 = api.as_("verifikator", subject="verif-3")
    joined = await _flag_check(api, niks=["1371015203850002"])
    tksk = api.as_("tksk", KEC_A, subject="tksk-a")
    await api.call("POST", f"/ground-checks/{joined['id']}/visit", tksk, visit_body(photo=await api.photo()))
    await seed_family(
        api.runtime,
        str(joined["household_id"]),
        version=2,
        flags=["deceased_dukcapil"],
        niks=["1371015203850002", nik3],
    )
    refused = await api.call("POST", f"/ground-checks/{joined['id']}/approve", verif3, expect=403)
    assert (refused["code"], "own family" in refused["detail"]) == ("four_eyes", True)
    # An event from before the field (no member_digests) keeps what verification knew.
    await seed_family(api.runtime, str(joined["household_id"]), version=3, flags=["deceased_dukcapil"])
    await api.call("POST", f"/ground-checks/{joined['id']}/approve", verif3, expect=403)
    # The KK change undone: verif-3 is no longer a member, so the approval goes through.
    await seed_family(
        api.runtime, str(joined["household_id"]), version=4, flags=["deceased_dukcapil"], niks=["1371015203850002"]
    )
    assert (await api.call("POST", f"/ground-checks/{joined['id']}/approve", verif3))["status"] == "approved"

    # The officer API shows the NIK masked; the audit entry of the write holds it masked only.
    officers = {o["subject"]: o for o in await api.call("GET", "/officers", api.as_("auditor"))}
    assert officers["verif-3"]["nik_masked"] == nik3[:4] + "••••••••" + nik3[-4:]
    assert "nik_digest" not in officers["verif-3"]
    entries = (await api.call("GET", "/audit?record_id=verif-3", api.as_("auditor", subject="audit-1")))["entries"]
    written = json.dumps(entries)
    assert nik3 not in written
    assert nik_digest(nik3, api.runtime.settings.nik_digest_secret()) not in written
    assert json.loads(entries[-1]["after"])["nik_masked"] == officers["verif-3"]["nik_masked"]


async def test_officer_writes_check_the_record_as_it_is_and_as_it_will_be(api: Api) -> None:
    await _seed(api)
    kadis_a = api.as_("kepala_dinas", KEC_A, subject="kadis-a")
    auditor = api.as_("auditor", subject="audit-1")
    before = {o["subject"]: o for o in await api.call("GET", "/officers", api.as_("auditor"))}

    # tksk-b works in KEC_B: moving it into KEC_A (and deactivating it) needs a scope covering KEC_B too.
    takeover = {"subject": "tksk-b", "role": "tksk", "wilayah_code": KEC_A, "active": False}
    refused = await api.call("PUT", "/officers/tksk-b", kadis_a, takeover, expect=403)
    assert (refused["code"], refused["current_wilayah"]) == ("out_of_scope", KEC_B)
    # A kota-level officer cannot be turned into a kelurahan one by a kecamatan scope.
    demote = {"subject": "verif-2", "role": "verifikator", "wilayah_code": KEL_A}
    refused = await api.call("PUT", "/officers/verif-2", kadis_a, demote, expect=403)
    assert refused["current_wilayah"] == "13.71"
    after = {o["subject"]: o for o in await api.call("GET", "/officers", api.as_("auditor"))}
    assert after == before

    # Inside the scope on both sides the change goes through, and the audit entry carries before and after.
    moved = await api.officer("psm-a", "psm", KEL_A2, active=False)
    assert (moved["wilayah_code"], moved["active"]) == (KEL_A2, False)
    entries = (await api.call("GET", "/audit?record_id=psm-a", auditor))["entries"]
    change = [e for e in entries if e["record_type"] == "officer"][-1]
    assert (json.loads(change["before"])["wilayah_code"], json.loads(change["after"])["wilayah_code"]) == (
        KEL_A,
        KEL_A2,
    )
    assert json.loads(change["after"])["active"] is False
    assert change["actor"] == "kadis"


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
        await api.document("minutes"),
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
        "POST",
        f"/ground-checks/{p['ground_check_id']}/visit",
        api.as_("tksk", KEC_A, subject="tksk-a"),
        visit_body(photo=await api.photo()),
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
    # Registering an officer is the kepala dinas's job, not a field officer's.
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
