"""A recipient_change usulan (issue 12 item 4): names the family and the proposed member, goes through the
ground check and its four-eyes approval like the other kinds, and only then emits recipient.change_approved."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from shared.events.recipient import RecipientChangeApproved
from tests.integration.verification.helpers import KEC_A, KEL_A, Api, assert_pii_free, seed_family, visit_body

pytestmark = pytest.mark.infra

WIFE = "7a6ef286-1ffd-51e8-8809-000000000002"


async def _approved_events(api: Api) -> list[dict[str, object]]:
    outbox = api.runtime.definition.messaging.outbox
    async with api.runtime.sessions() as s:
        rows = await s.execute(
            select(outbox.c.subject, outbox.c.data).where(outbox.c.event_type == "recipient.change_approved")
        )
        return [{"subject": r.subject, **json.loads(r.data)} for r in rows]


async def test_recipient_change_is_verified_before_the_registry_hears_of_it(api: Api) -> None:
    await api.approver("verif-1")
    await api.officer("tksk-a", "tksk", KEC_A)
    hid = await seed_family(api.runtime, kelurahan=KEL_A)
    operator = api.as_("operator_kelurahan", KEL_A, subject="op-a")
    verif = api.as_("verifikator", subject="verif-1")

    body = {"kind": "recipient_change", "channel": "citizen_app", "household_id": hid}
    missing = await api.call("POST", "/proposals", operator, body, expect=422)
    assert missing["errors"] == [{"field": "member_id", "reason": "required for recipient_change"}]
    stray = {"kind": "removal", "channel": "kelurahan", "household_id": hid, "member_id": WIFE}
    wrong = await api.call("POST", "/proposals", operator, stray, expect=422)
    assert wrong["errors"][0]["field"] == "member_id"
    outsider = api.as_("operator_kelurahan", "13.71.09.1001", subject="op-b")
    await api.call("POST", "/proposals", outsider, {**body, "member_id": WIFE}, expect=404)

    system = api.as_("system", subject="cek-bansos")
    p = await api.call("POST", "/proposals", system, {**body, "member_id": WIFE}, expect=201)
    assert (p["kind"], p["member_id"], p["kelurahan_code"]) == ("recipient_change", WIFE, KEL_A)
    p = await api.call("POST", f"/proposals/{p['id']}/actions/submit", system)
    assert p["status"] == "ground_check_scheduled"
    assert await _approved_events(api) == []  # nothing reaches the registry before the check is approved

    tksk = api.as_("tksk", KEC_A, subject="tksk-a")
    check_id = p["ground_check_id"]
    await api.call("POST", f"/ground-checks/{check_id}/visit", tksk, visit_body("layak", photo=await api.photo()))
    # Four eyes: the officer who visited may not approve their own visit.
    await api.call("POST", f"/ground-checks/{check_id}/approve", tksk, expect=403)
    await api.call("POST", f"/ground-checks/{check_id}/approve", verif)
    p = await api.call("GET", f"/proposals/{p['id']}", verif)
    assert p["status"] == "eligible"
    events = await _approved_events(api)
    assert len(events) == 1
    approved = RecipientChangeApproved.model_validate(events[0])
    assert (events[0]["subject"], approved.household_id, approved.member_id, approved.proposal_id) == (
        hid,
        hid,
        WIFE,
        str(p["id"]),
    )
    assert_pii_free(events[0])
