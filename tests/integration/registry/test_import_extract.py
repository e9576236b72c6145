"""Importing national extracts on PostgreSQL: error report, bad rows queued (never their families),
idempotent re-import, only the differences emitted, duplicate-NIK flags, the job API."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from services.registry.families.models import family, family_history, flag, member
from services.registry.imports.models import correction, import_job
from shared.auth.principal import Role
from tests.integration.registry.conftest import Registry
from tests.integration.registry.helpers import kk, nik
from tests.integration.registry.import_support import csv_text, error_report, outbox_types, row, submit

pytestmark = pytest.mark.infra

HEAD, WIFE, CHILD = "kepala_keluarga", "istri", "anak"
WIFE_NIK = nik(2, day="55", yy="85")


def f1() -> list[dict[str, str]]:
    return [
        row(kk(1), nik(1), "Budi", HEAD),
        row(kk(1), WIFE_NIK, "Sari", WIFE),
        row(kk(1), nik(3, day="10", month="03", yy="22"), "Adi", CHILD, status_kawin="belum_kawin"),
    ]


def f6(**over: str) -> list[dict[str, str]]:
    return [
        row(kk(6), nik(10), "Joni", HEAD, **over),
        # Month 13: breaks a date rule; kept and flagged invalid_nik.
        row(kk(6), nik(11, month="13", yy="10"), "Rina", CHILD, **over),
    ]


def planted_file() -> str:
    return csv_text(
        [
            *f1(),  # rows 2-4
            row(kk(2), nik(4), "Dedi", HEAD),  # 5
            row(kk(2), nik(5, day="11", month="04", yy="15"), "Eka", CHILD, tanggal_lahir="2015/04/11"),  # 6
            row(kk(3), nik(6), "Fajar", HEAD, rt="0"),  # 7
            row(kk(3), nik(7, day="52"), "Gita", WIFE, rt="0"),  # 8
            row(kk(4), nik(8), "Hadi", HEAD, kelurahan_code="13.71.01.1999"),  # 9
            row(kk(5), nik(9), "Iwan", HEAD),  # 10
            row(kk(5), WIFE_NIK, "Sari", "famili_lain"),  # 11: already on KK 1
            *f6(),  # 12-13
            row(kk(7), nik(12), "Kiki", HEAD, desil="11"),  # 14
            row(kk(8), nik(13), "Lukman", HEAD),  # 15
            row(kk(8), nik(14), "Mamat", HEAD),  # 16
            row(kk(9), nik(15), "Nando", HEAD),  # 17
            row(kk(9), "137101150580001", "Oki", CHILD),  # 18: 15 digits
        ]
    )


async def test_bad_rows_are_queued_and_the_rest_of_each_family_is_imported(registry: Registry) -> None:
    api = registry.as_(Role.VERIFIKATOR)
    job = await submit(api, "/imports/extracts", planted_file())
    assert job["status"] == "succeeded", job
    assert sorted(await error_report(api, job["id"])) == sorted(
        [
            (6, "tanggal_lahir", "tanggal_lahir.bad_format"),
            (7, "rt", "rt.invalid"),
            (8, "rt", "rt.invalid"),
            (9, "kelurahan_code", "wilayah.unknown_kelurahan"),
            (11, "nik", "nik.duplicate"),
            (14, "desil", "desil.out_of_range"),
            (16, "hubungan", "family.several_heads"),
            (18, "nik", "nik.not_16_digits"),
        ]
    )
    counts = job["counts"]
    assert counts["rows_read"] == 17
    assert (counts["rows_rejected"], counts["rows_queued"]) == (8, 8)
    assert (counts["families_inserted"], counts["members_inserted"]) == (6, 9)
    assert (counts["flags_raised"], counts["status_changed"], counts["events_emitted"]) == (7, 6, 19)
    async with registry.runtime.sessions() as s:
        ids = {k: i for k, i in await s.execute(select(family.c.no_kk, family.c.id))}
        assert set(ids) == {kk(1), kk(2), kk(5), kk(6), kk(8), kk(9)}
        rows = (await s.execute(select(member.c.nik, member.c.nik_issue, member.c.family_id))).all()
        assert len(rows) == 9
        assert {r.nik for r in rows if r.family_id == ids[kk(5)]} == {nik(9)}  # Sari stays on KK 1
        assert {r.nik for r in rows if r.nik_issue} == {nik(11, month="13", yy="10")}
        flags = (await s.execute(select(flag.c.family_id, flag.c.kind, flag.c.status, flag.c.detail))).all()
        by_kind = sorted((f.kind, f.family_id) for f in flags)
        assert by_kind == sorted(
            [
                ("invalid_nik", ids[kk(6)]),
                ("duplicate_nik", ids[kk(1)]),
                ("duplicate_nik", ids[kk(5)]),
                *[("member_needs_correction", ids[kk(n)]) for n in (2, 5, 8, 9)],
            ]
        )
        links = {f.family_id: f.detail["other_family_id"] for f in flags if f.kind == "duplicate_nik"}
        assert links == {ids[kk(1)]: ids[kk(5)], ids[kk(5)]: ids[kk(1)]}
        status = {k: v for k, v in await s.execute(select(family.c.no_kk, family.c.data_status))}
        assert set(status.values()) == {"needs_verification"}
        queue = {
            r.row_no: r
            for r in (
                await s.execute(
                    select(
                        correction.c.row_no,
                        correction.c.rule,
                        correction.c.family_id,
                        correction.c.kecamatan_code,
                        correction.c.raw,
                        correction.c.detail,
                        correction.c.status,
                    )
                )
            ).all()
        }
    assert sorted(queue) == [6, 7, 8, 9, 11, 14, 16, 18]
    assert {r.status for r in queue.values()} == {"open"}
    assert queue[18].raw["nik"] == "137101150580001"
    assert queue[18].family_id == ids[kk(9)]
    assert queue[11].rule == "nik.duplicate"
    assert queue[11].detail == {"other_family_id": ids[kk(1)]}
    assert queue[11].raw["nama"] == "Sari"
    assert queue[11].raw["hubungan"] == "famili_lain"
    assert (queue[7].family_id, queue[7].kecamatan_code) == (None, "13.71.01")  # no family, still in scope
    assert (queue[9].family_id, queue[9].kecamatan_code) == (None, None)  # kelurahan unknown: kota-wide only
    assert await outbox_types(registry.runtime) == {
        "household.registered": 6,
        "household.flagged": 7,
        "household.status_changed": 6,
    }
    await assert_history_and_events(registry, job_id=job["id"])


async def test_a_bad_head_row_is_named_and_the_rest_of_the_family_imported(registry: Registry) -> None:
    api = registry.as_(Role.VERIFIKATOR)
    bad_head = "13710115058000"  # 14 digits
    job = await submit(
        api,
        "/imports/extracts",
        csv_text(
            [
                row(kk(1), bad_head, "Budi", HEAD),
                row(kk(1), WIFE_NIK, "Sari", WIFE),
                row(kk(1), nik(3, day="10", month="03", yy="22"), "Adi", CHILD),
            ]
        ),
    )
    assert sorted(await error_report(api, job["id"])) == [
        (2, "hubungan", "family.head_row_queued"),
        (2, "nik", "nik.not_16_digits"),
    ]
    async with registry.runtime.sessions() as s:
        fam = (await s.execute(select(family))).mappings().one()
        assert fam["head_nik"] == bad_head
        members = set((await s.execute(select(member.c.nik))).scalars())
        assert members == {WIFE_NIK, nik(3, day="10", month="03", yy="22")}
        (entry,) = (await s.execute(select(correction))).mappings().all()
        assert (entry["rule"], entry["family_id"], entry["errors"]) == (
            "nik.not_16_digits",
            fam["id"],
            ["hubungan:family.head_row_queued", "nik:nik.not_16_digits"],
        )


async def assert_history_and_events(registry: Registry, *, job_id: str) -> None:
    """Each family's history and outbox events of the planted import, version by version, in order."""
    outbox = registry.runtime.definition.messaging.outbox
    async with registry.runtime.sessions() as s:
        ids = {k: (i, v) for k, i, v in await s.execute(select(family.c.no_kk, family.c.id, family.c.version))}
        creator = (await s.execute(select(import_job.c.created_by).where(import_job.c.id == job_id))).scalar_one()
        for no_kk, actions, members in (
            (kk(1), ["registered", "flag_raised", "status_changed"], 3),
            (kk(6), ["registered", "flag_raised", "status_changed"], 2),
        ):
            family_id, version = ids[no_kk]
            assert version == len(actions)
            history = (
                await s.execute(
                    select(family_history.c.version, family_history.c.action, family_history.c.actor)
                    .where(family_history.c.family_id == family_id)
                    .order_by(family_history.c.id)
                )
            ).all()
            assert [(h.version, h.action) for h in history] == list(enumerate(actions, start=1))
            assert {h.actor for h in history} == {creator}  # who: the job's submitter
            registered = (
                await s.execute(
                    select(family_history.c.before, family_history.c.after).where(
                        family_history.c.family_id == family_id, family_history.c.version == 1
                    )
                )
            ).one()
            assert registered.before is None
            assert registered.after["head_nik"] == (nik(1) if no_kk == kk(1) else nik(10))
            assert registered.after["kelurahan_code"] == "13.71.01.1001"
            events = (
                await s.execute(
                    select(outbox.c.event_id, outbox.c.event_type, outbox.c.aggregate_version, outbox.c.data)
                    .where(outbox.c.subject == family_id)
                    .order_by(outbox.c.id)
                )
            ).all()
            assert [e.aggregate_version for e in events] == list(range(1, len(actions) + 1))
            assert events[0].event_type == "household.registered"
            change = json.loads(events[0].data)["change"]
            assert change == {"type": "registered", "source": "dtsen_import", "import_id": job_id, "members": members}
            assert len({e.event_id for e in events}) == len(events)


async def test_reimport_changes_nothing_and_a_changed_file_emits_only_the_differences(registry: Registry) -> None:
    api = registry.as_(Role.VERIFIKATOR)
    fa = [row(kk(20), nik(20), "Putra", HEAD), row(kk(20), nik(21, day="01", month="02", yy="12"), "Tono", CHILD)]
    base = csv_text([*f1(), *f6(), *fa])
    first = await submit(api, "/imports/extracts", base)
    assert first["counts"]["families_inserted"] == 3
    before = await outbox_types(registry.runtime)

    again = await submit(api, "/imports/extracts", base, raw=True)
    c = again["counts"]
    assert (c["families_inserted"], c["families_updated"], c["families_unchanged"]) == (0, 0, 3)
    assert (c["members_inserted"], c["members_updated"], c["members_unchanged"]) == (0, 0, 7)
    assert (c["events_emitted"], c["flags_raised"], c["desil_snapshots"]) == (0, 0, 0)
    assert await outbox_types(registry.runtime) == before

    async with registry.runtime.sessions() as s:
        v1 = {k: v for k, v in await s.execute(select(family.c.no_kk, family.c.version))}
    changed = csv_text(
        [
            *[{**r, "alamat": "Jl. Sawahan No. 1"} for r in f1()],  # updated
            *f6(desil="5", periode_desil="2026-Q2"),  # desil_changed only
            fa[0],  # the child left the KK: updated (member deactivated)
            row(kk(21), nik(22), "Umar", HEAD),  # registered
        ]
    )
    third = await submit(api, "/imports/extracts", changed)
    c = third["counts"]
    assert (c["families_inserted"], c["families_updated"], c["families_unchanged"]) == (1, 2, 1)
    assert (c["members_inserted"], c["members_removed"], c["desil_snapshots"]) == (1, 1, 2)
    after = await outbox_types(registry.runtime)
    assert after - before == {
        "household.updated": 2,
        "household.registered": 1,
        "household.desil_changed": 1,
    }
    async with registry.runtime.sessions() as s:
        v2 = {k: v for k, v in await s.execute(select(family.c.no_kk, family.c.version))}
        assert {k: v2[k] - v1[k] for k in v1} == {kk(1): 1, kk(6): 1, kk(20): 1}
        f6_row = (await s.execute(select(family).where(family.c.no_kk == kk(6)))).mappings().one()
        assert (f6_row["desil"], f6_row["desil_period"], f6_row["desil_since"]) == (5, "2026-Q2", "2026-Q2")
        gone = (await s.execute(select(member.c.active).where(member.c.nik == fa[1]["nik"]))).scalar_one()
        assert gone is False

    # The person who left KK 20 turns up on a new KK: the old row still counts, so both get duplicate_nik.
    fourth = await submit(
        api, "/imports/extracts", csv_text([row(kk(22), nik(23), "Wati", HEAD), {**fa[1], "no_kk": kk(22)}])
    )
    assert fourth["counts"]["flags_raised"] == 2
    async with registry.runtime.sessions() as s:
        flagged = (
            await s.execute(
                select(family.c.no_kk, family.c.data_status)
                .join(flag, flag.c.family_id == family.c.id)
                .where(flag.c.kind == "duplicate_nik", flag.c.status == "open")
            )
        ).all()
        assert sorted(tuple(f) for f in flagged) == [(kk(20), "needs_verification"), (kk(22), "needs_verification")]
    fourth_types = await outbox_types(registry.runtime)
    assert fourth_types - after == {
        "household.registered": 1,
        "household.flagged": 2,
        "household.status_changed": 2,
    }

    # Rina (the invalid NIK) leaves KK 6: her member row is deactivated and the computed flag cleared.
    fifth = await submit(api, "/imports/extracts", csv_text(f6(desil="5", periode_desil="2026-Q2")[:1]))
    assert (fifth["counts"]["members_removed"], fifth["counts"]["flags_cleared"]) == (1, 1)
    async with registry.runtime.sessions() as s:
        invalid = (await s.execute(select(flag.c.status).where(flag.c.kind == "invalid_nik"))).scalars().all()
        assert invalid == ["cleared"]
    resolved = (await outbox_types(registry.runtime)) - fourth_types
    assert (resolved["household.updated"], resolved["household.flag_resolved"]) == (1, 1)


async def test_nik_active_in_a_family_the_file_does_not_list_stays_there_and_both_are_flagged(
    registry: Registry,
) -> None:
    api = registry.as_(Role.VERIFIKATOR)
    await submit(api, "/imports/extracts", csv_text(f1()))
    job = await submit(
        api,
        "/imports/extracts",
        csv_text([row(kk(30), nik(30), "Zul", HEAD), row(kk(30), nik(1), "Budi", "famili_lain")]),
    )
    assert (job["counts"]["families_inserted"], job["counts"]["rows_queued"]) == (1, 1)
    assert sorted(await error_report(api, job["id"])) == [(3, "nik", "nik.duplicate")]
    async with registry.runtime.sessions() as s:
        ids = {k: i for k, i in await s.execute(select(family.c.no_kk, family.c.id))}
        owner = (await s.execute(select(member.c.family_id).where(member.c.nik == nik(1)))).scalar_one()
        assert owner == ids[kk(1)]
        dup = {
            f.family_id: (f.member_id, f.detail["other_family_id"])
            for f in (await s.execute(select(flag).where(flag.c.kind == "duplicate_nik"))).all()
        }
        head_id = (await s.execute(select(member.c.id).where(member.c.nik == nik(1)))).scalar_one()
        assert dup == {ids[kk(1)]: (head_id, ids[kk(30)]), ids[kk(30)]: (None, ids[kk(1)])}
    # The same file again queues nothing twice and raises nothing new.
    again = await submit(
        api,
        "/imports/extracts",
        csv_text([row(kk(30), nik(30), "Zul", HEAD), row(kk(30), nik(1), "Budi", "famili_lain")]),
    )
    assert (again["counts"]["rows_queued"], again["counts"]["flags_raised"]) == (0, 0)


async def test_a_person_claimed_by_a_second_family_in_a_later_file_is_queued_and_linked_again(
    registry: Registry,
) -> None:
    # Found at 250,000 families: Budi stays in KK 1; KK 31 lists him in the same file, KK 32 in a later one.
    # Each claim is a queue entry of its own and a duplicate_nik pair of its own with KK 1.
    api = registry.as_(Role.VERIFIKATOR)
    first = await submit(
        api,
        "/imports/extracts",
        csv_text([*f1(), row(kk(31), nik(31), "Yan", HEAD), row(kk(31), nik(1), "Budi", "famili_lain")]),
    )
    second = await submit(
        api,
        "/imports/extracts",
        csv_text([row(kk(32), nik(32), "Wati", HEAD), row(kk(32), nik(1), "Budi", "famili_lain")]),
    )
    assert sorted(await error_report(api, first["id"])) == [(6, "nik", "nik.duplicate")]
    assert sorted(await error_report(api, second["id"])) == [(3, "nik", "nik.duplicate")]
    async with registry.runtime.sessions() as s:
        ids = {k: i for k, i in await s.execute(select(family.c.no_kk, family.c.id))}
        queued = sorted(
            (q.import_id, q.row_no, q.family_id)
            for q in await s.execute(select(correction).where(correction.c.rule == "nik.duplicate"))
        )
        assert queued == sorted([(first["id"], 6, ids[kk(31)]), (second["id"], 3, ids[kk(32)])])
        budi = (await s.execute(select(member.c.id).where(member.c.nik == nik(1)))).scalar_one()
        pairs = sorted(
            (f.family_id, f.member_id, f.detail["other_family_id"])
            for f in await s.execute(select(flag).where(flag.c.kind == "duplicate_nik", flag.c.status == "open"))
        )
        assert pairs == sorted(
            [
                (ids[kk(1)], budi, ids[kk(31)]),
                (ids[kk(31)], None, ids[kk(1)]),
                (ids[kk(1)], budi, ids[kk(32)]),
                (ids[kk(32)], None, ids[kk(1)]),
            ]
        )


async def test_a_claim_by_a_family_without_a_valid_row_still_flags_the_family_that_keeps_the_person(
    registry: Registry,
) -> None:
    # KK 33's only other row is its head with a 15-digit NIK: KK 33 cannot be registered, yet its claim on Budi
    # must reach KK 1 as a duplicate_nik flag naming KK 33's No. KK (found at 20,000 families, high defect rate).
    api = registry.as_(Role.VERIFIKATOR)
    job = await submit(
        api,
        "/imports/extracts",
        csv_text([*f1(), row(kk(33), "137101150580033", "Tono", HEAD), row(kk(33), nik(1), "Budi", "famili_lain")]),
    )
    assert sorted(await error_report(api, job["id"])) == [(5, "nik", "nik.not_16_digits"), (6, "nik", "nik.duplicate")]
    async with registry.runtime.sessions() as s:
        assert (await s.execute(select(family.c.id).where(family.c.no_kk == kk(33)))).first() is None
        ids = {k: i for k, i in await s.execute(select(family.c.no_kk, family.c.id))}
        budi = (await s.execute(select(member.c.id).where(member.c.nik == nik(1)))).scalar_one()
        claim = (await s.execute(select(correction.c.id).where(correction.c.rule == "nik.duplicate"))).scalar_one()
        flags = [
            (f.family_id, f.member_id, f.detail)
            for f in await s.execute(select(flag).where(flag.c.kind == "duplicate_nik", flag.c.status == "open"))
        ]
    assert flags == [(ids[kk(1)], budi, {"other_family_id": None, "other_no_kk": kk(33), "correction_id": claim})]


async def test_import_job_api(registry: Registry) -> None:
    verifier = registry.as_(Role.VERIFIKATOR)
    r = await registry.as_(Role.OPERATOR_KELURAHAN, "13.71.01.1001").client.post(
        "/imports/extracts",
        content=b"x",
        headers={**registry.as_(Role.OPERATOR_KELURAHAN, "13.71.01.1001").headers, "Content-Type": "text/csv"},
    )
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    local = registry.as_(Role.VERIFIKATOR, "13.71.01")
    r = await local.client.post(
        "/imports/extracts", content=b"x", headers={**local.headers, "Content-Type": "text/csv"}
    )
    assert (r.status_code, r.json()["code"]) == (403, "out_of_scope")
    r = await verifier.client.post(
        "/imports/extracts", content=b"", headers={**verifier.headers, "Content-Type": "text/csv"}
    )
    assert r.status_code == 422
    failed = await submit(verifier, "/imports/extracts", "no_kk,nik\n1371010101150001,1371011505800001\n")
    assert failed["status"] == "failed"
    assert "missing column" in failed["error"]
    latin1 = await submit(
        verifier, "/imports/extracts", csv_text([row(kk(1), nik(1), "Andr\u00e9", HEAD)]).encode("latin-1")
    )
    assert latin1["status"] == "failed"
    assert "utf-8" in latin1["error"]
    ok = await submit(verifier, "/imports/extracts", csv_text(f1()))
    assert ok["status"] == "succeeded"
    assert ok["counts"]["rows_read"] == 3
    assert ok["started_at"]
    assert ok["finished_at"]
    assert ok["source"] == "dtsen_import"
    listed = (await verifier.get("/imports")).json()["items"]
    assert [j["id"] for j in listed] == [ok["id"], latin1["id"], failed["id"]]
    assert (await verifier.get("/imports/00000000-0000-0000-0000-000000000000")).status_code == 404
    assert await error_report(verifier, ok["id"]) == []
    r = await verifier.post("/imports/lists/nope", None)
    assert r.status_code == 422


async def test_a_member_listed_on_another_kk_moves_there(registry: Registry) -> None:
    api = registry.as_(Role.VERIFIKATOR)
    x = nik(41, day="03", month="03", yy="05")
    a = [row(kk(40), nik(40), "Anto", HEAD), row(kk(40), x, "Xena", CHILD)]
    b = [row(kk(41), nik(42), "Beni", HEAD)]
    await submit(api, "/imports/extracts", csv_text([*a, *b]))
    async with registry.runtime.sessions() as s:
        member_id = (await s.execute(select(member.c.id).where(member.c.nik == x))).scalar_one()
    before = await outbox_types(registry.runtime)
    job = await submit(api, "/imports/extracts", csv_text([a[0], *b, {**a[1], "no_kk": kk(41), "hubungan": "menantu"}]))
    c = job["counts"]
    assert (c["families_updated"], c["members_updated"], c["members_removed"], c["members_inserted"]) == (2, 1, 0, 0)
    assert c["flags_raised"] == 0
    assert await outbox_types(registry.runtime) - before == {"household.updated": 2}
    async with registry.runtime.sessions() as s:
        moved = (
            await s.execute(
                select(member.c.id, member.c.relationship, family.c.no_kk)
                .join(family, family.c.id == member.c.family_id)
                .where(member.c.nik == x)
            )
        ).all()
    assert [tuple(m) for m in moved] == [(member_id, "menantu", kk(41))]


async def test_values_reach_the_registry_exactly_and_a_nul_byte_queues_only_its_row(registry: Registry) -> None:
    api = registry.as_(Role.VERIFIKATOR)
    where = "Jl. Nipah, No. 7\nBlok C"  # a comma and a line break inside a quoted field
    text = csv_text(
        [
            row(kk(1), nik(1), 'Budi "Uda" Santoso', HEAD, alamat=where, tempat_lahir=""),
            row(
                kk(1), WIFE_NIK, "Sari", WIFE, alamat=where, pendidikan="", pekerjaan="", hamil="ya", jenis_kelamin="P"
            ),
            row(kk(2), nik(4), "Dedi\x00", HEAD),
            row(kk(2), nik(5, day="11", month="04", yy="15"), "Eka", CHILD),
        ]
    )
    job = await submit(api, "/imports/extracts", text)
    assert job["status"] == "succeeded", job
    assert sorted(await error_report(api, job["id"])) == [
        (4, "hubungan", "family.head_row_queued"),  # the head was refused: the rest of the KK comes in
        (4, "row", "row.nul_byte"),
    ]
    async with registry.runtime.sessions() as s:
        assert len((await s.execute(select(family.c.id).where(family.c.no_kk == kk(2)))).all()) == 1
        (fam,) = (await s.execute(select(family).where(family.c.no_kk == kk(1)))).mappings().all()
        assert (fam["no_kk"], fam["address"], fam["rt"], fam["rw"]) == (kk(1), where, "002", "005")
        people = {
            r["nik"]: r
            for r in (await s.execute(select(member).where(member.c.family_id == fam["id"]))).mappings().all()
        }
    head, wife = people[nik(1)], people[WIFE_NIK]
    assert (head["name"], head["birth_place"], head["education"], head["pregnant"]) == (
        'Budi "Uda" Santoso',
        None,
        "SMA",
        False,
    )
    assert (wife["education"], wife["occupation"], wife["pregnant"], wife["sex"]) == (None, None, True, "P")
