"""A generated city end to end on PostgreSQL: the extract, then the death and excluded-occupation lists; the
bulk flags and event payloads agree with the single-write code paths."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from demo.generator import generate_city
from services.registry.domain.identifiers import today_wib
from services.registry.families.computed_flags import refresh_computed_flags
from services.registry.families.models import family, family_history, flag, member
from services.registry.families.state import household_states
from shared.auth.principal import Role
from shared.events.envelope import utcnow
from shared.runtime.service import ServiceRuntime
from tests.integration.registry.conftest import Registry
from tests.integration.registry.helpers import kk, nik
from tests.integration.registry.import_support import csv_text, error_report, outbox_types, row, submit

pytestmark = pytest.mark.infra


async def assert_consistent_with_single_writes(runtime: ServiceRuntime) -> None:
    """The core flag computation finds nothing to change, and each family's newest event carries exactly the
    HouseholdState the single-write path would build, at the family's current version."""
    outbox = runtime.definition.messaging.outbox
    async with runtime.sessions() as s, s.begin():
        ids = list((await s.execute(select(family.c.id))).scalars())
        assert await refresh_computed_flags(s, family_ids=ids, now=utcnow()) == []
        await s.rollback()
    async with runtime.sessions() as s:
        states = await household_states(s, ids, today_wib())
        versions = {k: v for k, v in await s.execute(select(family.c.id, family.c.version))}
        newest = (
            select(outbox.c.subject, func.max(outbox.c.aggregate_version).label("v"))
            .group_by(outbox.c.subject)
            .subquery()
        )
        rows = await s.execute(
            select(outbox.c.subject, outbox.c.aggregate_version, outbox.c.data).join(
                newest, (newest.c.subject == outbox.c.subject) & (newest.c.v == outbox.c.aggregate_version)
            )
        )
        seen = 0
        for subject, version, data in rows:
            payload = json.loads(data)
            payload.pop("change")
            expected = states[subject].model_dump(mode="json")
            expected.pop("change")
            assert payload == expected, subject
            assert version == versions[subject]
            seen += 1
        assert seen == len(ids)


def _niks(path: Path) -> list[str]:
    with path.open(newline="") as fh:
        return [r["nik"] for r in csv.DictReader(fh)]


async def test_city_extract_and_lists(registry: Registry, tmp_path: Path) -> None:
    stats = generate_city(tmp_path / "city", families_count=1500, seed=11)
    api = registry.as_(Role.SYSTEM)
    job = await submit(api, "/imports/extracts", (tmp_path / "city" / "extract.csv").read_text())
    assert job["status"] == "succeeded", job
    c: dict[str, Any] = job["counts"]
    assert c["rows_read"] == stats.members
    assert c["families_inserted"] + len({r for r, *_ in await error_report(api, job["id"])}) > 0
    assert c["members_inserted"] == stats.members - c["rows_rejected"]
    assert c["flags_raised"] > 0  # planted invalid NIKs (month 13-24)
    await assert_consistent_with_single_writes(registry.runtime)

    async with registry.runtime.sessions() as s:
        active = set((await s.execute(select(member.c.nik).where(member.c.active))).scalars())
    dead = _niks(tmp_path / "city" / "death_list.csv")
    before = await outbox_types(registry.runtime)
    death = await submit(api, "/imports/lists/death", (tmp_path / "city" / "death_list.csv").read_text())
    c = death["counts"]
    matched = [n for n in dead if n in active]
    assert (c["rows_read"], c["matched"], c["unmatched"]) == (len(dead), len(matched), len(dead) - len(matched))
    assert c["flags_raised"] == len(set(matched))
    # The planted contradictions (ground truth of the generator) and nothing else become conflicts.
    planted = {n: k for n, k in stats.planted_deaths.items() if n in active}
    conflicts = {n: k for n, k in planted.items() if k != "head_deceased"}
    assert set(planted.values()) == {"death_before_birth", "death_in_future", "name_mismatch", "head_deceased"}
    assert c["conflicts"] == len(conflicts)
    deaths = set(matched) - set(conflicts)
    unmatched_rows = [r for r, f, reason in await error_report(api, death["id"]) if reason == "nik.not_matched"]
    assert len(unmatched_rows) == c["unmatched"]
    async with registry.runtime.sessions() as s:
        flags = (
            await s.execute(
                select(member.c.nik, flag.c.kind, flag.c.detail, family.c.data_status)
                .join(member, member.c.id == flag.c.member_id)
                .join(family, family.c.id == flag.c.family_id)
                .where(flag.c.kind.in_(["deceased_dukcapil", "death_record_conflict"]), flag.c.status == "open")
            )
        ).all()
    assert {f.nik for f in flags if f.kind == "deceased_dukcapil"} == deaths
    assert {f.nik: f.detail["conflict"] for f in flags if f.kind == "death_record_conflict"} == conflicts
    assert all(f.data_status == "needs_verification" for f in flags)
    assert all(f.detail["deceased_date"] and f.detail["death_certificate_no"] for f in flags)
    new_events = await outbox_types(registry.runtime) - before
    assert new_events["household.flagged"] == len(set(matched))
    changes = await _flagged_changes(registry, "deceased_dukcapil")
    assert len(changes) == len(deaths)
    assert all(c.keys() == {"type", "flag_id", "kind", "status", "source"} for c in changes)  # no sub_kind
    assert {c["source"] for c in changes} == {"dukcapil"}
    await assert_consistent_with_single_writes(registry.runtime)

    again = await submit(api, "/imports/lists/death", (tmp_path / "city" / "death_list.csv").read_text())
    assert (again["counts"]["flags_raised"], again["counts"]["events_emitted"]) == (0, 0)

    excluded = _niks(tmp_path / "city" / "excluded_list.csv")
    ex = await submit(api, "/imports/lists/excluded?source=bkd", (tmp_path / "city" / "excluded_list.csv").read_text())
    assert ex["source"] == "bkd"
    assert ex["counts"]["flags_raised"] == len({n for n in excluded if n in active})
    async with registry.runtime.sessions() as s:
        subs = (
            await s.execute(
                select(flag.c.sub_kind, flag.c.source, flag.c.detail).where(flag.c.kind == "excluded_occupation")
            )
        ).all()
    assert subs
    assert all(sub in {"pns", "tni", "polri", "pejabat", "bumn_bumd"} for sub, _, _ in subs)
    assert all(src == "bkd" and d["instansi"] for _, src, d in subs)
    changes = await _flagged_changes(registry, "excluded_occupation")
    assert sorted(c["sub_kind"] for c in changes) == sorted(sub for sub, _, _ in subs)
    assert {c["source"] for c in changes} == {"bkd"}
    await assert_consistent_with_single_writes(registry.runtime)


async def _flagged_changes(registry: Registry, kind: str) -> list[dict[str, Any]]:
    """The `change` of every household.flagged event for flags of `kind`, each checked against its history row."""
    outbox = registry.runtime.definition.messaging.outbox
    async with registry.runtime.sessions() as s:
        rows = await s.execute(select(outbox.c.data).where(outbox.c.event_type == "household.flagged"))
        changes = [c for c in (json.loads(d)["change"] for (d,) in rows) if c["kind"] == kind]
        history = {
            h.after["flag_id"]: h.after
            for h in await s.execute(select(family_history.c.after).where(family_history.c.action == "flag_raised"))
            if h.after and h.after["kind"] == kind
        }
    for c in changes:
        assert history[c["flag_id"]] == {
            "flag_id": c["flag_id"],
            "kind": kind,
            "sub_kind": c.get("sub_kind"),
            "source": c["source"],
        }
    return changes


async def test_list_rows_are_validated(registry: Registry) -> None:
    api = registry.as_(Role.VERIFIKATOR)
    text = (
        "nik,tanggal_meninggal,no_akta_kematian\n"
        "1371011505800001,2026-13-01,A1\n"
        "12345,2026-01-01,A2\n"
        "1371011505800001,2999-01-01,A3\n"
        "1371011505800001,2026-01-01,A4\n"
    )
    job = await submit(api, "/imports/lists/death", text)
    assert sorted(await error_report(api, job["id"])) == [
        (2, "tanggal_meninggal", "tanggal_meninggal.bad_format"),
        (3, "nik", "nik.not_16_digits"),
        (4, "nik", "nik.not_matched"),  # a future date is checked against the member, not rejected
        (5, "nik", "nik.not_matched"),
    ]
    assert (job["counts"]["rows_rejected"], job["counts"]["unmatched"]) == (4, 2)
    bad = await submit(api, "/imports/lists/excluded", "nik,kategori,instansi\n1371011505800001,guru,SD 1\n")
    assert await error_report(api, bad["id"]) == [(2, "kategori", "kategori.unknown")]


async def test_death_entries_contradicting_the_register_become_conflicts_not_deaths(registry: Registry) -> None:
    """Before birth, in the future, or naming someone else: death_record_conflict (for a ground check), never a
    deceased_dukcapil that could not be confirmed; a named entry matching after normalisation is a death."""
    api = registry.as_(Role.SYSTEM)
    heads = {1: "Budi", 4: "Dedi", 6: "Fajar", 8: "Hadi", 9: "Iwan"}
    extract = csv_text([row(kk(n), nik(n), name, "kepala_keluarga") for n, name in heads.items()])
    assert (await submit(api, "/imports/extracts", extract))["status"] == "succeeded"
    async with registry.runtime.sessions() as s:
        born = (await s.execute(select(member.c.birth_date).where(member.c.nik == nik(1)))).scalar_one()
    assert born is not None
    before = await outbox_types(registry.runtime)
    listed = (
        "nik,tanggal_meninggal,no_akta_kematian,nama\n"
        f"{nik(1)},{born.replace(year=born.year - 10).isoformat()},A1,Budi\n"  # before birth
        f"{nik(4)},2999-01-01,A2,Dedi\n"  # in the future
        f"{nik(6)},2025-01-01,A3,Siti Aminah\n"  # another person's name
        f"{nik(8)},2025-01-01,A4,ALM. HADI\n"  # the same name, written otherwise
        f"{nik(9)},2025-01-01,A5,\n"  # no name to compare
    )
    job = await submit(api, "/imports/lists/death", listed)
    assert job["status"] == "succeeded", job
    assert (job["counts"]["flags_raised"], job["counts"]["conflicts"], job["counts"]["rows_rejected"]) == (5, 3, 0)
    async with registry.runtime.sessions() as s:
        flags = {
            r.nik: (r.kind, (r.detail or {}).get("conflict"), r.data_status)
            for r in await s.execute(
                select(member.c.nik, flag.c.kind, flag.c.detail, family.c.data_status)
                .join(member, member.c.id == flag.c.member_id)
                .join(family, family.c.id == flag.c.family_id)
                .where(flag.c.status == "open")
            )
        }
    assert flags == {
        nik(1): ("death_record_conflict", "death_before_birth", "needs_verification"),
        nik(4): ("death_record_conflict", "death_in_future", "needs_verification"),
        nik(6): ("death_record_conflict", "name_mismatch", "needs_verification"),
        nik(8): ("deceased_dukcapil", None, "needs_verification"),
        nik(9): ("deceased_dukcapil", None, "needs_verification"),
    }
    assert (await outbox_types(registry.runtime) - before)["household.flagged"] == 5
    conflicts = await _flagged_changes(registry, "death_record_conflict")
    assert len(conflicts) == 3
    async with registry.runtime.sessions() as s:
        ids = list(
            (
                await s.execute(
                    select(family.c.id).join(member, member.c.family_id == family.c.id).where(member.c.nik == nik(1))
                )
            ).scalars()
        )
        states = await household_states(s, ids, today_wib())
    assert [st.open_flags for st in states.values()] == [["death_record_conflict"]]
    await assert_consistent_with_single_writes(registry.runtime)
    again = await submit(api, "/imports/lists/death", listed)
    assert (again["counts"]["flags_raised"], again["counts"]["events_emitted"]) == (0, 0)
