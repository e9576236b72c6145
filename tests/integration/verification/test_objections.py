"""Objections (sanggah): residency, photo + GPS, due date, decisions, removal proposal, the lapse job."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.verification.objections.models import objection
from services.verification.objections.service import lapse_overdue
from tests.integration.verification.helpers import KEL_A, KEL_A2, Api, assert_pii_free, seed_family

pytestmark = pytest.mark.infra


def _body(hid: str, objector_kelurahan: str = KEL_A, *, photo: dict[str, str]) -> dict[str, object]:
    return {
        "household_id": hid,
        "objector_kelurahan_code": objector_kelurahan,
        "grounds": "well_off",
        "photo": photo,
        "gps": {"lat": -0.94, "lon": 100.36},
    }


async def _events(api: Api, event_type: str) -> list[dict[str, object]]:
    outbox = api.runtime.definition.messaging.outbox
    async with api.runtime.sessions() as session:
        rows = (await session.execute(select(outbox.c.data).where(outbox.c.event_type == event_type))).scalars()
        return [json.loads(r) for r in rows]


async def test_objection_rules_and_decisions(api: Api) -> None:
    photo = await api.photo("car in front of the house")
    hid = await seed_family(api.runtime, kelurahan=KEL_A)
    operator = api.as_("operator_kelurahan", KEL_A, subject="op-a")
    verif = api.as_("verifikator", subject="verif-1")

    not_resident = await api.call("POST", "/objections", operator, _body(hid, KEL_A2, photo=photo), expect=422)
    assert not_resident["code"] == "objector_not_resident"
    no_photo = {k: v for k, v in _body(hid, photo=photo).items() if k != "photo"}
    assert (await api.call("POST", "/objections", operator, no_photo, expect=422))["errors"][0]["field"] == "photo"
    no_gps = {k: v for k, v in _body(hid, photo=photo).items() if k != "gps"}
    await api.call("POST", "/objections", operator, no_gps, expect=422)

    o = await api.call("POST", "/objections", operator, _body(hid, photo=photo), expect=201)
    assert o["status"] == "under_verification"
    received, due = datetime.fromisoformat(o["received_at"]), datetime.fromisoformat(o["due_at"])
    assert due - received == timedelta(days=14)
    check = await api.call("GET", f"/ground-checks/{o['ground_check_id']}", verif)
    assert (check["reason"], check["household_id"]) == ("objection", hid)

    # The kelurahan records objections but does not decide them.
    await api.call("POST", f"/objections/{o['id']}/decision", operator, {"result": "upheld"}, expect=403)
    up = await api.call("POST", f"/objections/{o['id']}/decision", verif, {"result": "upheld", "reason": "well_off"})
    assert up["status"] == "upheld"
    removal = await api.call("GET", f"/proposals/{up['removal_proposal_id']}", verif)
    assert (removal["kind"], removal["household_id"], removal["status"]) == ("removal", hid, "submitted")
    again = await api.call("POST", f"/objections/{o['id']}/decision", verif, {"result": "rejected"}, expect=409)
    assert (again["current_state"], again["allowed_actions"]) == ("upheld", [])

    o2 = await api.call("POST", "/objections", operator, _body(hid, photo=photo), expect=201)
    # One open objection check per family: the second objection joins it.
    assert o2["ground_check_id"] == o["ground_check_id"]
    rej = await api.call("POST", f"/objections/{o2['id']}/decision", verif, {"result": "rejected"})
    assert (rej["status"], rej["removal_proposal_id"]) == ("rejected", None)

    upheld = await _events(api, "objection.upheld")
    rejected = await _events(api, "objection.rejected")
    assert [e["objection_id"] for e in upheld] == [str(o["id"])]
    assert upheld[0]["removal_proposal_id"] == str(up["removal_proposal_id"])
    assert [e["objection_id"] for e in rejected] == [str(o2["id"])]
    for e in upheld + rejected:
        assert_pii_free(e)

    page = await api.call("GET", "/objections", api.as_("psm", KEL_A2, subject="psm-a2"))
    assert page["total"] == 0  # another kelurahan sees none of them
    assert (await api.call("GET", "/objections", operator))["total"] == 2


async def test_lapse_after_14_days_is_idempotent(api: Api) -> None:
    photo = await api.photo("car in front of the house")
    hid = await seed_family(api.runtime, kelurahan=KEL_A)
    operator = api.as_("operator_kelurahan", KEL_A, subject="op-a")
    ids = [
        (await api.call("POST", "/objections", operator, _body(hid, photo=photo), expect=201))["id"] for _ in range(3)
    ]
    decided = ids[0]
    await api.call("POST", f"/objections/{decided}/decision", api.as_("verifikator"), {"result": "rejected"})

    rt = api.runtime
    async with rt.sessions() as session, session.begin():
        received = (await session.execute(select(func.min(objection.c.received_at)))).scalar_one()
    # Day 13: nothing lapses yet.
    async with rt.sessions() as session, session.begin():
        assert await lapse_overdue(session, outbox=rt.outbox, now=received + timedelta(days=13)) == 0
    later = received + timedelta(days=15)
    for expected in (2, 0):  # the second run finds nothing more to do
        async with rt.sessions() as session, session.begin():
            assert await lapse_overdue(session, outbox=rt.outbox, now=later) == expected
    async with rt.sessions() as session:
        states = {i: st for i, st in await session.execute(select(objection.c.id, objection.c.status))}
    assert states == {ids[0]: "rejected", ids[1]: "lapsed", ids[2]: "lapsed"}
    lapsed = await _events(api, "objection.lapsed")
    assert sorted(str(e["objection_id"]) for e in lapsed) == sorted(str(i) for i in ids[1:])
    for e in lapsed:
        assert_pii_free(e)
    # The ops hook: system clients only; running it now lapses nothing (nothing is due yet in real time).
    await api.call("POST", "/ops/objections/lapse", api.as_("verifikator"), expect=403)
    assert await api.call("POST", "/ops/objections/lapse", api.as_("system", subject="cron")) == {"lapsed": 0}
