"""Families and members through the API against real PostgreSQL: validation, concurrency, idempotency,
the one-active-NIK rule, moves, deaths, flags, scope, masking and the PII-free events."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError

from services.registry.desil.service import record_desil
from services.registry.families.models import family, flag, member, personal_data_access
from shared.auth.principal import Role
from shared.events.envelope import utcnow
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


async def _outbox(reg: Registry, subject: str | None = None) -> list[dict[str, object]]:
    t = reg.runtime.definition.messaging.outbox
    stmt = select(t.c.event_type, t.c.aggregate_version, t.c.subject, t.c.data).order_by(t.c.id)
    if subject:
        stmt = stmt.where(t.c.subject == subject)
    async with reg.runtime.sessions() as s:
        return [dict(r) for r in (await s.execute(stmt)).mappings()]


async def test_identifier_rules_give_422_naming_field_and_reason(registry: Registry) -> None:
    op = registry.as_(Role.OPERATOR_KELURAHAN, KEL_SELATAN)
    cases = {
        "1371012902010001": "nik.bad_date",  # 29 Feb 2001 does not exist
        "1371017201900001": "nik.bad_day",  # day 72 (women are 41-71)
        "1371013201900001": "nik.bad_day",  # day 32
        "1371011505800000": "nik.serial_zero",
        "1371991505800001": "nik.bad_region",  # kecamatan 13.71.99 does not exist
        "9971011505800001": "nik.bad_province",
        "13710115058000A1": "nik.not_16_digits",
    }
    for i, (bad, reason) in enumerate(cases.items()):
        body = family_body(no_kk=kk(100 + i), members=[{"nik": bad, "name": "X", "relationship": "kepala_keluarga"}])
        r = await op.post("/families", body)
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert {"field": "members.0.nik", "reason": reason} in [
            {"field": e["field"], "reason": e["reason"]} for e in r.json()["errors"]
        ], (bad, r.json())
    r = await op.post("/families", {**family_body(no_kk="1371010101150000"), "head_nik": "1371011505800000"})
    assert r.status_code == 422
    assert {(e["field"], e["reason"]) for e in r.json()["errors"]} == {
        ("no_kk", "no_kk.serial_zero"),
        ("head_nik", "nik.serial_zero"),
    }
    r = await op.post("/families", {**family_body(no_kk=kk(1)), "kelurahan_code": "13.71.01.1999", "rt": "0"})
    assert {(e["field"], e["reason"]) for e in r.json()["errors"]} == {
        ("kelurahan_code", "wilayah.unknown_kelurahan"),
        ("rt", "rt.invalid"),
    }
    # Valid edge cases: 29 Feb 2000, a woman born on the 31st (day 71), and a sex contradicting the NIK.
    leap, woman = "1371012902000001", "1371017101900002"
    f = await op.create(
        family_body(
            no_kk=kk(1),
            head=leap,
            members=[
                {"nik": leap, "name": "A", "relationship": "kepala_keluarga"},
                {"nik": woman, "name": "B", "relationship": "istri", "sex": "L"},
            ],
        )
    )
    assert [m["sex"] for m in f["members"]] == ["L", "L"]
    assert f["open_flags"] == ["sex_nik_mismatch"]
    assert (f["data_status"], f["status_reason"]) == ("needs_verification", "open_flag")


async def test_if_match_required_and_checked(registry: Registry) -> None:
    op = registry.as_(Role.OPERATOR_KELURAHAN, KEL_SELATAN)
    f = await op.create(family_body(no_kk=kk(1)))
    url = f"/families/{f['id']}"
    r = await op.patch(url, {"address": "Jl. Baru 1"})
    assert r.status_code == 428
    r = await op.get(url)
    etag = r.headers["etag"]
    assert etag == '"1"'
    r = await op.patch(url, {"address": "Jl. Baru 1", "rt": "7"}, headers={"If-Match": etag})
    assert r.status_code == 200, r.text
    assert (r.headers["etag"], r.json()["rt"]) == ('"2"', "007")
    r = await op.patch(url, {"address": "Jl. Lama"}, headers={"If-Match": etag})
    assert r.status_code == 412
    assert r.json()["current_version"] == 2
    r = await op.post(f"/families/{f['id']}/deactivate", {"reason": "moved"}, headers={"If-Match": etag})
    assert r.status_code == 412
    r = await op.post(f"/families/{f['id']}/deactivate", {"reason": "moved"})
    assert r.status_code == 428


async def test_idempotent_create(registry: Registry) -> None:
    op = registry.as_(Role.OPERATOR_KELURAHAN, KEL_SELATAN)
    body = family_body(no_kk=kk(1))
    first = await op.post("/families", body, headers={"Idempotency-Key": "k-1"})
    again = await op.post("/families", body, headers={"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    other = await op.post("/families", family_body(no_kk=kk(2)), headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    async with registry.runtime.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(family))).scalar_one() == 1
    # Without a key a repeat is a new request, and the No. KK unique key answers 409.
    r = await op.post("/families", body)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (409, "no_kk")


async def test_one_active_nik_is_enforced_by_the_database(registry: Registry) -> None:
    op = registry.as_(Role.OPERATOR_KELURAHAN, KEL_SELATAN)
    a = await op.create(family_body(no_kk=kk(1)))
    r = await op.post(
        "/families",
        family_body(
            no_kk=kk(2),
            head=WIFE_NIK,
            members=[
                {"nik": WIFE_NIK, "name": "Siti", "relationship": "kepala_keluarga"},
                {"nik": HEAD_NIK, "name": "Budi", "relationship": "suami"},
            ],
        ),
    )
    assert r.status_code == 409, r.text
    assert r.json()["errors"] == [{"field": "nik", "reason": "nik.already_active"}]
    etag = (await op.get(f"/families/{a['id']}")).headers["etag"]
    b = await op.create(family_body(no_kk=kk(2), head=WIFE_NIK))
    r = await op.post(
        f"/families/{b['id']}/members",
        {"nik": HEAD_NIK, "name": "Budi", "relationship": "suami"},
        headers={"If-Match": f'"{b["version"]}"'},
    )
    assert r.status_code == 409
    assert etag == '"1"'
    # The guard is the database's own: a direct insert is refused too.
    now = utcnow()
    async with registry.runtime.sessions() as s:
        with pytest.raises(IntegrityError):
            async with s.begin():
                await s.execute(
                    insert(member).values(
                        id="direct-1",
                        family_id=b["id"],
                        nik=HEAD_NIK,
                        name="Budi",
                        relationship="suami",
                        active=True,
                        source="test",
                        created_at=now,
                        updated_at=now,
                    )
                )


async def test_move_member_between_families(registry: Registry) -> None:
    op = registry.as_(Role.OPERATOR_KELURAHAN, "13.71.01")
    a = await op.create(
        family_body(
            no_kk=kk(1),
            members=[
                {"nik": HEAD_NIK, "name": "Budi", "relationship": "kepala_keluarga"},
                {"nik": CHILD_NIK, "name": "Anak", "relationship": "anak"},
            ],
        )
    )
    b = await op.create(
        family_body(
            no_kk=kk(2),
            head=WIFE_NIK,
            kelurahan="13.71.01.1002",
            members=[{"nik": WIFE_NIK, "name": "Siti", "relationship": "kepala_keluarga"}],
        )
    )
    child = next(m for m in a["members"] if m["relationship"] == "anak")
    r = await op.post(f"/members/{child['id']}/move", {"target_family_id": b["id"], "relationship": "anak"})
    assert r.status_code == 428
    r = await op.post(
        f"/members/{child['id']}/move",
        {"target_family_id": b["id"], "relationship": "anak"},
        headers={"If-Match": f'"{a["version"]}"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["member_count"] == 2
    assert (await op.get(f"/families/{a['id']}")).json()["member_count"] == 1
    assert [e["event_type"] for e in await _outbox(registry, a["id"])][-1] == "household.member_removed"
    events_b = await _outbox(registry, b["id"])
    assert events_b[-1]["event_type"] == "household.member_added"
    assert json.loads(str(events_b[-1]["data"]))["composition"]["children_0_6"] == 1
    history = (await op.get(f"/families/{a['id']}/history")).json()
    assert history[-1]["action"] == "member_moved_out"
    assert not (await op.get("/flags")).json()["items"]  # a move is not a duplicate


async def test_deceased_is_recorded_and_only_corrected_with_audit(registry: Registry) -> None:
    op = registry.as_(Role.OPERATOR_KELURAHAN, KEL_SELATAN)
    verifikator = registry.as_(Role.VERIFIKATOR)
    f = await op.create(family_body(no_kk=kk(1)))
    head = f["members"][0]
    url = f"/members/{head['id']}/deceased"
    body = {"deceased_date": "2026-01-02", "death_certificate_no": "1371-KM-0001"}
    r = await op.post(url, body, headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["members"][0]["deceased"] is True
    # Nobody alive is left: the family becomes inactive, all deceased.
    assert (out["data_status"], out["status_reason"], out["existence_status"]) == (
        "inactive",
        "deceased",
        "all_deceased",
    )
    etag = r.headers["etag"]
    assert (await op.post(url, body, headers={"If-Match": etag})).status_code == 409
    r = await op.patch(f"/members/{head['id']}", {"deceased": False}, headers={"If-Match": etag})
    assert r.status_code == 422  # not a PATCHable field
    r = await op.post(f"{url}/correction", {"reason": "wrong person on the death list"}, headers={"If-Match": etag})
    assert r.status_code == 403
    r = await verifikator.post(
        f"{url}/correction", {"reason": "wrong person on the death list"}, headers={"If-Match": etag}
    )
    assert r.status_code == 200, r.text
    assert r.json()["members"][0]["deceased"] is False
    history = (await verifikator.get(f"/families/{f['id']}/history")).json()
    corrected = history[-1]
    assert (corrected["action"], corrected["reason"]) == ("deceased_corrected", "wrong person on the death list")
    assert corrected["before"]["death_certificate_no"] == "1371-KM-0001"
    types = [e["event_type"] for e in await _outbox(registry, f["id"])]
    assert types == [
        "household.registered",
        "household.member_deceased",
        "household.status_changed",
        "household.updated",
    ]


async def test_duplicate_nik_and_kk_flags_and_their_lifecycle(registry: Registry) -> None:
    op = registry.as_(Role.OPERATOR_KELURAHAN, "13.71")
    verifikator = registry.as_(Role.VERIFIKATOR)
    a = await op.create(family_body(no_kk=kk(1)))
    b = await op.create(family_body(no_kk=kk(2), head=WIFE_NIK))
    # A legacy record (as an import leaves it): the same person, inactive, in family b, plus a broken NIK.
    now = utcnow()
    async with registry.runtime.sessions() as s, s.begin():
        await s.execute(
            insert(member),
            [
                {
                    "id": "legacy-1",
                    "family_id": b["id"],
                    "nik": HEAD_NIK,
                    "nik_issue": None,
                    "name": "Budi",
                    "relationship": "suami",
                    "active": False,
                    "source": "dtsen_import",
                    "created_at": now,
                    "updated_at": now,
                },
                {
                    "id": "legacy-2",
                    "family_id": b["id"],
                    "nik": "1371013201900001",
                    "nik_issue": "nik.bad_day",
                    "name": "C",
                    "relationship": "anak",
                    "active": True,
                    "source": "dtsen_import",
                    "created_at": now,
                    "updated_at": now,
                },
            ],
        )
    r = await op.patch(f"/families/{b['id']}", {"address": "Jl. Baru"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200
    assert r.json()["open_flags"] == ["duplicate_nik", "invalid_nik"]
    got_a = (await op.get(f"/families/{a['id']}")).json()
    assert (got_a["open_flags"], got_a["data_status"]) == (["duplicate_nik"], "needs_verification")
    # The same person heading a second KK: duplicate_kk on both families.
    c = await op.create(family_body(no_kk=kk(3), head=HEAD_NIK, members=[]))
    assert c["open_flags"] == ["duplicate_kk"]
    assert "duplicate_kk" in (await op.get(f"/families/{a['id']}")).json()["open_flags"]
    # Correcting the head NIK clears duplicate_kk on both sides.
    r = await op.patch(f"/families/{c['id']}", {"head_nik": nik(9)}, headers={"If-Match": f'"{c["version"]}"'})
    assert r.json()["open_flags"] == []
    assert (r.json()["data_status"], r.json()["status_reason"]) == ("active", None)
    assert (await op.get(f"/families/{a['id']}")).json()["open_flags"] == ["duplicate_nik"]

    flags = (await verifikator.get("/flags", params={"status": "open", "family_id": b["id"]})).json()["items"]
    by_kind = {f["kind"]: f for f in flags}
    assert set(by_kind) == {"duplicate_nik", "invalid_nik"}
    assert by_kind["duplicate_nik"]["detail"] == {"other_families": 1}
    r = await op.post(f"/flags/{by_kind['invalid_nik']['id']}/refute", {"reason": "fixed on paper"})
    assert r.status_code == 403
    r = await verifikator.post(f"/flags/{by_kind['invalid_nik']['id']}/confirm", {"reason": "NIK typo on the KK"})
    assert (r.status_code, r.json()["status"], r.json()["resolved_by"]) == (200, "confirmed", "verifikator-13.71")
    r = await verifikator.post(f"/flags/{by_kind['invalid_nik']['id']}/refute", {"reason": "again"})
    assert r.status_code == 409
    r = await verifikator.post(f"/flags/{by_kind['duplicate_nik']['id']}/refute", {"reason": "old KK, he moved"})
    assert r.json()["status"] == "refuted"
    got_b = (await op.get(f"/families/{b['id']}")).json()
    assert (got_b["open_flags"], got_b["data_status"]) == ([], "active")
    # A refuted flag is not raised again by the next write while the condition persists.
    r = await op.patch(f"/families/{b['id']}", {"address": "Jl. Lagi"}, headers={"If-Match": f'"{got_b["version"]}"'})
    assert r.json()["open_flags"] == []
    types = [e["event_type"] for e in await _outbox(registry, b["id"])]
    assert types.count("household.flagged") == 2
    assert types.count("household.flag_resolved") == 2
    # A confirmed duplicate KK makes the family inactive.
    await op.patch(
        f"/families/{c['id']}", {"head_nik": HEAD_NIK}, headers={"If-Match": f'"{r.json()["version"]}"'}
    ) if False else None
    d = await op.create(family_body(no_kk=kk(4), head=WIFE_NIK, members=[]))
    dup = [
        f
        for f in (await verifikator.get("/flags", params={"kind": "duplicate_kk", "family_id": d["id"]})).json()[
            "items"
        ]
    ]
    r = await verifikator.post(f"/flags/{dup[0]['id']}/confirm", {"reason": "registered twice"})
    got_d = (await op.get(f"/families/{d['id']}")).json()
    assert (got_d["data_status"], got_d["status_reason"], got_d["existence_status"]) == (
        "inactive",
        "duplicate",
        "duplicate",
    )


async def test_scope_on_get_list_count_and_aggregates(registry: Registry) -> None:
    op = registry.as_(Role.VERIFIKATOR)
    mine = await op.create(family_body(no_kk=kk(1)))
    theirs = await op.create(family_body(no_kk=kk(2), head=WIFE_NIK, kelurahan=KEL_KURANJI))
    tksk = registry.as_(Role.TKSK, "13.71.01")
    assert (await tksk.get(f"/families/{theirs['id']}")).status_code == 404
    assert (await tksk.get(f"/families/{theirs['id']}/history")).status_code == 404
    assert (await tksk.get(f"/families/{mine['id']}")).status_code == 200
    assert [f["id"] for f in (await tksk.get("/families")).json()["items"]] == [mine["id"]]
    assert (await tksk.get("/families", params={"kecamatan": "13.71.09"})).json()["items"] == []
    assert (await tksk.get("/families/count")).json() == {"count": 1}
    assert (await op.get("/families/count")).json() == {"count": 2}
    r = await tksk.post("/lookup/nik", {"nik": WIFE_NIK})
    assert r.status_code == 404
    groups = (await tksk.get("/aggregates/families", params={"group_by": "kelurahan"})).json()["groups"]
    assert [(g["code"], g["families"], g["members"]) for g in groups] == [(KEL_SELATAN, 1, 1)]
    all_groups = (await op.get("/aggregates/families")).json()["groups"]
    assert [(g["code"], g["by_data_status"]) for g in all_groups] == [
        ("13.71.01", {"active": 1}),
        ("13.71.09", {"active": 1}),
    ]
    # Writing into another kecamatan is refused.
    operator = registry.as_(Role.OPERATOR_KELURAHAN, KEL_SELATAN)
    r = await operator.post("/families", family_body(no_kk=kk(3), head=nik(7), kelurahan=KEL_KURANJI))
    assert r.status_code == 403
    r = await operator.patch(f"/families/{theirs['id']}", {"address": "x"}, headers={"If-Match": '"1"'})
    assert r.status_code == 404


async def test_masking_reveal_with_audit_and_sensitive_fields(registry: Registry) -> None:
    op = registry.as_(Role.OPERATOR_KELURAHAN, KEL_SELATAN)
    body = family_body(
        no_kk=kk(12),
        members=[
            {"nik": HEAD_NIK, "name": "Budi", "relationship": "kepala_keluarga", "disability": "severe"},
        ],
    )
    f = await op.create(body)
    assert (f["no_kk"], f["members"][0]["nik"]) == ("1371••••••••0012", "1371••••••••0001")
    assert f["members"][0]["disability"] is None  # operator may not read sensitive data
    url = f"/families/{f['id']}"
    assert (await op.get(url, params={"reveal": "true", "purpose": "check"})).status_code == 403
    tksk = registry.as_(Role.TKSK, "13.71.01")
    r = await tksk.get(url, params={"reveal": "true"})
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "purpose")
    masked = (await tksk.get(url)).json()
    assert masked["members"][0]["disability"] == "severe"
    assert masked["members"][0]["birth_date"] is None
    r = await tksk.get(url, params={"reveal": "true", "purpose": "ground check visit"})
    shown = r.json()
    assert (shown["no_kk"], shown["members"][0]["nik"], shown["members"][0]["birth_date"]) == (
        kk(12),
        HEAD_NIK,
        "1980-05-15",
    )
    r = await tksk.post("/lookup/kk", {"no_kk": kk(12)})
    assert r.json()["id"] == f["id"]
    history = (await tksk.get(f"{url}/history")).json()
    assert history[0]["after"]["no_kk"] == "1371••••••••0012"
    assert "birth_date" not in history[0]["after"]["members"][0]
    async with registry.runtime.sessions() as s:
        rows = (await s.execute(select(personal_data_access))).mappings().all()
    assert {(r["actor"], r["family_id"], r["purpose"]) for r in rows} == {
        ("tksk-13.71.01", f["id"], "ground check visit")
    }
    assert {r["member_id"] for r in rows} == {None, f["members"][0]["id"]}


async def test_events_are_pii_free_and_versioned(registry: Registry) -> None:
    op = registry.as_(Role.OPERATOR_KELURAHAN, KEL_SELATAN)
    f = await op.create(
        family_body(
            no_kk=kk(1),
            members=[
                {"nik": HEAD_NIK, "name": "Budi Santoso", "relationship": "kepala_keluarga"},
                {"nik": CHILD_NIK, "name": "Rina Anak", "relationship": "anak", "school_status": "sd"},
            ],
        )
    )
    etag = f'"{f["version"]}"'
    r = await op.post(
        f"/families/{f['id']}/members",
        {"nik": WIFE_NIK, "name": "Siti Aminah", "relationship": "istri", "pregnant": True},
        headers={"If-Match": etag},
    )
    assert r.status_code == 201
    async with registry.runtime.sessions() as s, s.begin():
        assert await record_desil(s, f["id"], "2026-Q1", 3, "bps", "batch-1")
        assert await record_desil(s, f["id"], "2026-Q2", 3, "bps", "batch-2")
        assert await record_desil(s, f["id"], "2025-Q4", 5, "bps", "batch-0")
        assert not await record_desil(s, f["id"], "2026-Q1", 9, "bps", "batch-9")
    desil = (await op.get(f"/families/{f['id']}/desil")).json()
    assert (desil["desil"], desil["desil_period"], desil["desil_since"]) == (3, "2026-Q2", "2026-Q1")
    assert [s["period"] for s in desil["snapshots"]] == ["2026-Q2", "2026-Q1", "2025-Q4"]
    events = await _outbox(registry, f["id"])
    assert [e["event_type"] for e in events] == [
        "household.registered",
        "household.member_added",
        "household.desil_changed",
        "household.desil_changed",
    ]
    assert [e["aggregate_version"] for e in events] == [1, 2, 3, 4]
    async with registry.runtime.sessions() as s:
        assert (await s.execute(select(family.c.version).where(family.c.id == f["id"]))).scalar_one() == 4
    for e in events:
        raw = str(e["data"])
        for secret in (HEAD_NIK, CHILD_NIK, WIFE_NIK, kk(1), "Budi", "Siti", "Rina", "Nipah"):
            assert secret not in raw
    last = json.loads(str(events[-1]["data"]))
    assert last["composition"] == {
        "members": 3,
        "children_0_6": 1,
        "school_sd": 1,
        "school_smp": 0,
        "school_sma": 0,
        "elderly_70": 0,
        "disabled_severe": 0,
        "pregnant": 1,
    }
    # Q1 set the value; Q2 kept it but moved the period (part of the household state: an event too); Q4-2025 is
    # older: no event.
    assert (last["desil"], last["desil_period"], last["change"]) == (
        3,
        "2026-Q2",
        {"type": "desil_changed", "from": 3, "to": 3, "period": "2026-Q2", "source": "bps"},
    )


async def test_list_filters_and_cursor_pages(registry: Registry) -> None:
    op = registry.as_(Role.VERIFIKATOR)
    ids = []
    for i in range(5):
        kel = KEL_SELATAN if i % 2 == 0 else KEL_KURANJI
        head = nik(i + 1)
        names = ["Yusuf Rahman", "Dewi"][i % 2]
        f = await op.create(
            family_body(
                no_kk=kk(i + 1),
                head=head,
                kelurahan=kel,
                members=[{"nik": head, "name": f"{names} {i}", "relationship": "kepala_keluarga"}],
            )
        )
        ids.append(f["id"])
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await op.get("/families", params=params)).json()
        seen += [f["id"] for f in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5
    assert sorted(seen) == sorted(ids)
    r = await op.get("/families", params={"name": "YUSUF"})
    assert len(r.json()["items"]) == 3
    assert (await op.get("/families/count", params={"name": "yusuf", "kelurahan": KEL_SELATAN})).json()["count"] == 3
    assert (await op.get("/families", params={"cursor": "garbage!"})).status_code == 422
    assert (await op.get("/families", params={"limit": 201})).status_code == 422
    async with registry.runtime.sessions() as s, s.begin():
        await record_desil(s, ids[0], "2026-Q1", 2, "bps", None)
        await record_desil(s, ids[1], "2026-Q1", 7, "bps", None)
    assert (await op.get("/families/count", params={"desil_min": 1, "desil_max": 4})).json()["count"] == 1
    assert (await op.get("/families/count", params={"flag": "any"})).json()["count"] == 0
    async with registry.runtime.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(flag))).scalar_one() == 0
        assert (await s.execute(text("SELECT count(*) FROM wilayah"))).scalar_one() > 100
