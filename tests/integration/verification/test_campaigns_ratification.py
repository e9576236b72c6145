"""Revalidation campaigns (one INSERT … SELECT), ratification batches and the ministry export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from services.verification.groundchecks.models import ground_check
from services.verification.proposal_records import proposal
from shared.events.envelope import utcnow
from shared.events.household import DataStatus
from tests.integration.verification.helpers import KEC_A, KEC_B, KEL_A, KEL_B, Api, doc, seed_family, visit_body

pytestmark = pytest.mark.infra


async def test_campaign_selects_assigns_and_reports_progress(api: Api) -> None:
    boss = api.as_("verifikator", subject="verif-1")
    await api.officer("tksk-a", "tksk", KEC_A)
    rt = api.runtime
    a = [await seed_family(rt, kelurahan=KEL_A, desil=d) for d in (1, 2, 3, 4, 6, 8)]  # 6: desil > 5 filtered out
    b = [await seed_family(rt, kelurahan=KEL_B, desil=2) for _ in range(3)]  # kecamatan B has no TKSK seeded
    inactive = await seed_family(rt, kelurahan=KEL_A, desil=1, status=DataStatus.INACTIVE)
    other_kec = await seed_family(rt, kelurahan="13.71.05.1001", desil=1)
    now = utcnow()
    async with rt.sessions() as session, session.begin():
        # a[0] was verified 2 months ago; a[1] a year and a half ago; a[2] already has an open revalidation check.
        base = {"kecamatan_code": KEC_A, "kelurahan_code": KEL_A, "due_at": now, "created_at": now, "updated_at": now}
        await session.execute(
            insert(ground_check),
            [
                base
                | {
                    "household_id": a[0],
                    "reason": "payment_failed",
                    "status": "approved",
                    "decided_at": now - timedelta(days=60),
                },
                base
                | {
                    "household_id": a[1],
                    "reason": "payment_failed",
                    "status": "approved",
                    "decided_at": now - timedelta(days=540),
                },
                base | {"household_id": a[2], "reason": "revalidation", "status": "open", "decided_at": None},
            ],
        )
    body = {"name": "Revalidasi tahap IV", "kecamatan_codes": [KEC_A, KEC_B], "not_verified_months": 12, "desil_max": 5}
    c = await api.call("POST", "/campaigns", boss, body, expect=201)
    # A: a[1], a[3] (a[0] recent, a[2] open, a[4]/a[5] above desil 5); B: all three.
    assert c["created_checks"] == 5
    async with rt.sessions() as session:
        rows = (
            await session.execute(
                select(ground_check.c.household_id, ground_check.c.status, ground_check.c.assigned_to).where(
                    ground_check.c.campaign_id == c["id"]
                )
            )
        ).all()
    got = {h: (s, who) for h, s, who in rows}
    assert got == {a[1]: ("assigned", "tksk-a"), a[3]: ("assigned", "tksk-a")} | dict.fromkeys(b, ("open", None))
    assert inactive not in got
    assert other_kec not in got

    again = await api.call("POST", "/campaigns", boss, body | {"name": "twice"}, expect=201)
    assert again["created_checks"] == 0  # every selected family already has its open revalidation check

    progress = await api.call("GET", f"/campaigns/{c['id']}/progress", boss)
    assert progress["by_kecamatan"] == {KEC_A: {"assigned": 2}, KEC_B: {"open": 3}}
    assert {r["officer"]: r["counts"] for r in progress["by_officer"]} == {None: {"open": 3}, "tksk-a": {"assigned": 2}}
    mine = await api.call("GET", f"/campaigns/{c['id']}/progress", api.as_("tksk", KEC_A, subject="tksk-a"))
    assert mine["by_kecamatan"] == {KEC_A: {"assigned": 2}}
    await api.call("GET", f"/campaigns/{c['id']}/progress", api.as_("tksk", "13.71.05", subject="t5"), expect=404)
    await api.call("POST", "/campaigns", api.as_("tksk", KEC_A, subject="tksk-a"), body, expect=403)
    bad = await api.call("POST", "/campaigns", boss, body | {"kecamatan_codes": ["13.71"]}, expect=422)
    assert bad["code"] == "validation"


async def _eligible_proposals(api: Api, n: int) -> list[int]:
    """n citizen-app proposals taken through their ground checks to eligible."""
    boss = await api.approver("verif-1")
    await api.officer("tksk-a", "tksk", KEC_A)
    app = api.as_("system", subject="cek-bansos")
    tksk = api.as_("tksk", KEC_A, subject="tksk-a")
    ids = []
    for _ in range(n):
        hid = await seed_family(api.runtime, kelurahan=KEL_A)
        p = await api.call(
            "POST", "/proposals", app, {"kind": "desil_review", "channel": "citizen_app", "household_id": hid}, 201
        )
        p = await api.call("POST", f"/proposals/{p['id']}/actions/submit", app)
        await api.call(
            "POST", f"/ground-checks/{p['ground_check_id']}/visit", tksk, visit_body(photo=await api.photo())
        )
        await api.call("POST", f"/ground-checks/{p['ground_check_id']}/approve", boss)
        ids.append(p["id"])
    return ids


async def test_ratification_four_eyes_and_export(api: Api) -> None:
    ids = await _eligible_proposals(api, 3)
    async with api.runtime.sessions() as session:
        cycle = (await session.execute(select(proposal.c.cycle).where(proposal.c.id == ids[0]))).scalar_one()
    prep = api.as_("verifikator", subject="verif-1")
    head = api.as_("kepala_dinas", subject="kadis")
    head_as_preparer = api.as_("kepala_dinas", subject="kadis")

    await api.call("POST", "/ratification-batches", prep, {"cycle": "2001-01"}, expect=409)  # nothing eligible
    batch = await api.call("POST", "/ratification-batches", prep, {"cycle": cycle}, expect=201)
    assert (batch["status"], batch["proposal_count"], batch["allowed_actions"]) == ("draft", 3, ["submit"])
    assert (await api.call("GET", f"/proposals/{ids[0]}", prep))["status"] == "awaiting_ratification"
    early = await api.call("POST", f"/ratification-batches/{batch['id']}/ratify", head, expect=409)
    assert early["current_state"] == "draft"
    await api.call("POST", f"/ratification-batches/{batch['id']}/submit", prep)
    await api.call("POST", f"/ratification-batches/{batch['id']}/ratify", prep, expect=403)  # no permission

    # A kepala dinas who prepared a batch cannot sign it.
    more = await _eligible_proposals(api, 1)
    own = await api.call("POST", "/ratification-batches", head_as_preparer, {"cycle": cycle}, expect=201)
    assert own["proposal_count"] == len(more)
    await api.call("POST", f"/ratification-batches/{own['id']}/submit", head_as_preparer)
    refused = await api.call("POST", f"/ratification-batches/{own['id']}/ratify", head, expect=403)
    assert refused["code"] == "four_eyes"

    signed = await api.call("POST", f"/ratification-batches/{batch['id']}/ratify", head)
    assert (signed["status"], signed["ratified_by"]) == ("ratified", "kadis")

    blocked = await api.call("POST", f"/ratification-batches/{batch['id']}/export", prep, expect=409)
    assert (blocked["code"], blocked["missing"]) == ("attachments_missing", ["minutes", "list"])
    await api.call(
        "POST", f"/ratification-batches/{batch['id']}/attachments", prep, await api.document("minutes", "batch")
    )
    blocked = await api.call("POST", f"/ratification-batches/{batch['id']}/export", prep, expect=409)
    assert blocked["missing"] == ["list"]
    await api.call(
        "POST", f"/ratification-batches/{batch['id']}/attachments", prep, await api.document("list", "batch")
    )

    text = await api.call("POST", f"/ratification-batches/{batch['id']}/export", prep)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [int(r["proposal_id"]) for r in rows] == ids
    assert {r["result"] for r in rows} == {"layak"}
    assert {r["kelurahan_code"] for r in rows} == {KEL_A}
    assert {r["batch_minutes_sha256"] for r in rows} == {doc("minutes", "batch")["sha256"]}
    assert all(len(r["evidence_sha256"]) == 64 and r["household_id"].startswith("hh-") for r in rows)
    assert not {"name", "nik", "no_kk", "address"} & set(rows[0])
    assert (await api.call("GET", f"/ratification-batches/{batch['id']}", prep))["status"] == "sent"
    assert {(await api.call("GET", f"/proposals/{i}", prep))["status"] for i in ids} == {"sent"}
    # A sent batch can be downloaded again, unchanged, but no longer altered.
    assert await api.call("POST", f"/ratification-batches/{batch['id']}/export", prep) == text
    await api.call(
        "POST", f"/ratification-batches/{batch['id']}/attachments", prep, await api.document("list", "v2"), expect=409
    )
    # Scope: a kelurahan operator cannot see a kota-level batch.
    await api.call("GET", f"/ratification-batches/{batch['id']}", api.as_("operator_kelurahan", KEL_A), expect=404)
