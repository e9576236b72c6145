"""POST /lookup/nik and /lookup/kk against real PostgreSQL: the same family view as GET /families/{id}, a scope
that cannot be probed, and reveals that are recorded (personal_data_access, audit chain) while masked reads are not."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.registry.families.models import personal_data_access
from shared.auth.principal import Role
from tests.integration.registry.conftest import Registry
from tests.integration.registry.helpers import (
    CHILD_NIK,
    HEAD_NIK,
    KEL_KURANJI,
    KEL_SELATAN,
    WIFE_NIK,
    family_body,
    kk,
    nik,
)

pytestmark = pytest.mark.infra


async def _reads(registry: Registry) -> tuple[int, int]:
    audit = registry.runtime.definition.messaging.audit_log
    async with registry.runtime.sessions() as s:
        accesses = (await s.execute(select(func.count()).select_from(personal_data_access))).scalar_one()
        entries = (await s.execute(select(func.count()).select_from(audit))).scalar_one()
    return int(accesses), int(entries)


async def test_lookup_gives_the_family_view_with_members_in_order_and_open_flags(registry: Registry) -> None:
    op = registry.as_(Role.OPERATOR_KELURAHAN, "13.71.01")
    a = await op.create(
        family_body(
            no_kk=kk(1),
            members=[
                {"nik": HEAD_NIK, "name": "Budi", "relationship": "kepala_keluarga"},
                # A woman's NIK with sex L: an open sex_nik_mismatch flag on the family.
                {"nik": WIFE_NIK, "name": "Siti", "relationship": "istri", "sex": "L"},
                {"nik": CHILD_NIK, "name": "Anak", "relationship": "anak"},
            ],
        )
    )
    b = await op.create(family_body(no_kk=kk(2), head=nik(9), kelurahan="13.71.01.1002"))
    child = next(m for m in a["members"] if m["relationship"] == "anak")
    r = await op.post(
        f"/members/{child['id']}/move",
        {"target_family_id": b["id"], "relationship": "anak"},
        headers={"If-Match": f'"{a["version"]}"'},
    )
    assert r.status_code == 200, r.text
    view = await op.get(f"/families/{a['id']}")
    by_nik = await op.post("/lookup/nik", {"nik": WIFE_NIK})
    by_kk = await op.post("/lookup/kk", {"no_kk": kk(1)})
    assert by_nik.status_code == by_kk.status_code == 200
    assert by_nik.json() == by_kk.json() == view.json()
    assert by_nik.headers["etag"] == view.headers["etag"] == f'"{view.json()["version"]}"'
    got = by_nik.json()
    assert got["open_flags"] == ["sex_nik_mismatch"]
    assert (got["member_count"], sorted(m["name"] for m in got["members"])) == (2, ["Budi", "Siti"])
    # The child's NIK now leads to the family it moved to; a death there shows in the count, not in the list.
    moved = (await op.post("/lookup/nik", {"nik": CHILD_NIK})).json()
    assert (moved["id"], moved["member_count"], moved["open_flags"]) == (b["id"], 2, [])
    head_b = next(m for m in moved["members"] if m["nik"].endswith("0009"))
    r = await op.post(
        f"/members/{head_b['id']}/deceased",
        {"deceased_date": "2026-01-02", "death_certificate_no": "AKT-1"},
        headers={"If-Match": f'"{moved["version"]}"'},
    )
    assert r.status_code == 200, r.text
    after = (await op.post("/lookup/nik", {"nik": CHILD_NIK})).json()
    assert after == (await op.get(f"/families/{b['id']}")).json()
    assert (after["member_count"], len(after["members"])) == (1, 2)
    assert [m["deceased"] for m in after["members"] if m["id"] == head_b["id"]] == [True]


async def test_lookup_outside_the_wilayah_answers_like_an_unknown_nik(registry: Registry) -> None:
    verifikator = registry.as_(Role.VERIFIKATOR)
    await verifikator.create(family_body(no_kk=kk(1), head=WIFE_NIK, kelurahan=KEL_KURANJI))
    tksk = registry.as_(Role.TKSK, "13.71.01")
    elsewhere = await tksk.post("/lookup/nik", {"nik": WIFE_NIK})
    unknown = await tksk.post("/lookup/nik", {"nik": nik(77)})
    assert elsewhere.status_code == unknown.status_code == 404
    per_request = {"instance", "request_id"}
    assert {k: v for k, v in elsewhere.json().items() if k not in per_request} == {
        k: v for k, v in unknown.json().items() if k not in per_request
    }
    kk_elsewhere = await tksk.post("/lookup/kk", {"no_kk": kk(1)})
    kk_unknown = await tksk.post("/lookup/kk", {"no_kk": kk(99)})
    assert kk_elsewhere.status_code == kk_unknown.status_code == 404
    assert kk_elsewhere.json()["code"] == kk_unknown.json()["code"] == "not_found"
    assert (await verifikator.post("/lookup/nik", {"nik": WIFE_NIK})).status_code == 200


async def test_only_a_reveal_is_recorded_and_it_needs_role_and_purpose(registry: Registry) -> None:
    op = registry.as_(Role.OPERATOR_KELURAHAN, KEL_SELATAN)
    f = await op.create(
        family_body(
            no_kk=kk(3),
            members=[
                {"nik": HEAD_NIK, "name": "Budi", "relationship": "kepala_keluarga"},
                {"nik": CHILD_NIK, "name": "Anak", "relationship": "anak"},
            ],
        )
    )
    before = await _reads(registry)
    masked = await op.post("/lookup/nik", {"nik": HEAD_NIK})
    assert masked.status_code == 200
    assert masked.json()["members"][0]["nik"] == "1371••••••••0001"
    assert await _reads(registry) == before
    assert (await op.post("/lookup/nik", {"nik": HEAD_NIK, "reveal": True, "purpose": "visit"})).status_code == 403
    tksk = registry.as_(Role.TKSK, "13.71.01")
    r = await tksk.post("/lookup/nik", {"nik": HEAD_NIK, "reveal": True})
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "purpose")
    assert await _reads(registry) == before
    shown = await tksk.post("/lookup/nik", {"nik": HEAD_NIK, "reveal": True, "purpose": "ground check visit"})
    assert shown.status_code == 200
    assert [m["nik"] for m in shown.json()["members"]] == [HEAD_NIK, CHILD_NIK]
    assert await _reads(registry) == (before[0] + 2, before[1] + 1)
    audit = registry.runtime.definition.messaging.audit_log
    async with registry.runtime.sessions() as s:
        rows = (await s.execute(select(personal_data_access))).mappings().all()
        entry = (await s.execute(select(audit).order_by(audit.c.seq.desc()).limit(1))).mappings().one()
    assert {(r["actor"], r["family_id"], r["member_id"], r["purpose"]) for r in rows} == {
        ("tksk-13.71.01", f["id"], m["id"], "ground check visit") for m in f["members"]
    }
    assert (entry["actor"], entry["action"], entry["purpose"]) == (
        "tksk-13.71.01",
        "reveal personal data",
        "ground check visit",
    )
