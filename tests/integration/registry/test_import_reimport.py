"""Re-importing an extract, on SQLite (embedded) and PostgreSQL alike: an unchanged file changes nothing at all (no
event, no history row, no version), a changed one classifies every family by what changed in it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from services.registry.app import create_app
from services.registry.families.models import family, family_history, member
from services.registry.imports.progress import EXTRACT_PHASES
from services.registry.settings import RegistrySettings
from shared.auth.principal import Role
from shared.bus.local import LocalBus
from shared.runtime.service import ServiceRuntime
from tests.integration.registry.helpers import KEL_SELATAN, Api, kk, nik
from tests.integration.registry.import_support import csv_text, outbox_types, row, submit
from tests.support.api import running

HEAD, WIFE, CHILD = "kepala_keluarga", "istri", "anak"


@dataclass
class App:
    """A registry app on one dialect."""

    runtime: ServiceRuntime
    api: Api
    operator: Api


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.infra)])
def settings(request: pytest.FixtureRequest, sqlite_settings: Any) -> RegistrySettings:
    """Registry settings without workers (events stay in the outbox) on SQLite or PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_settings(RegistrySettings, run_workers=False)  # type: ignore[no-any-return]
    make = request.getfixturevalue("pg_settings")
    return make(RegistrySettings, auto_migrate=True, run_workers=False)  # type: ignore[no-any-return]


@pytest.fixture
async def app(settings: RegistrySettings) -> AsyncIterator[App]:
    """The registry app on the dialect of `settings`."""
    application = create_app(settings, bus=LocalBus())
    async with running(application) as client:
        yield App(
            application.state.runtime,
            Api(client, settings.data_dir, Role.VERIFIKATOR),
            Api(client, settings.data_dir, Role.OPERATOR_KELURAHAN, KEL_SELATAN),
        )


def child(serial: int, kk_serial: int, name: str, **over: str) -> dict[str, str]:
    return row(kk(kk_serial), nik(serial, day="10", month="03", yy="12"), name, CHILD, **over)


def base_rows() -> list[dict[str, str]]:
    return [
        row(kk(31), nik(31), "Agus", HEAD),  # A: address changes
        child(32, 31, "Ani"),
        row(kk(32), nik(33), "Bayu", HEAD),  # B: a member's column changes
        row(kk(32), nik(34, day="55", yy="85"), "Bunga", WIFE),
        row(kk(33), nik(35), "Candra", HEAD),  # C: a member joins
        row(kk(34), nik(36), "Dodi", HEAD),  # D: a member leaves
        child(37, 34, "Dina"),
        row(kk(35), nik(38), "Eko", HEAD),  # E: a member moves to F
        child(39, 35, "Evi"),
        row(kk(36), nik(40), "Feri", HEAD),  # F: receives E's member
        row(kk(37), nik(41), "Gilang", HEAD),  # G: desil moves in a new period
        row(kk(38), nik(42), "Hendra", HEAD),  # H: a new period, the same desil
        row(kk(39), nik(43), "Irwan", HEAD),  # I: unchanged
        row(kk(40), nik(44), "Joko", HEAD),  # J: unchanged, with a member added at the counter
    ]


def changed_rows() -> list[dict[str, str]]:
    rows = []
    for r in base_rows():
        if r["no_kk"] == kk(31):
            r = {**r, "alamat": "Jl. Sawahan No. 1"}
        elif r["nik"] == nik(34, day="55", yy="85"):
            r = {**r, "pekerjaan": "Guru"}
        elif r["nik"] == nik(37, day="10", month="03", yy="12"):
            continue
        elif r["nik"] == nik(39, day="10", month="03", yy="12"):
            r = {**r, "no_kk": kk(36), "hubungan": "famili_lain"}
        elif r["no_kk"] == kk(37):
            r = {**r, "desil": "6", "periode_desil": "2026-Q2"}
        elif r["no_kk"] == kk(38):
            r = {**r, "periode_desil": "2026-Q2"}
        rows.append(r)
    rows.insert(5, child(47, 33, "Cici"))  # joins C
    rows.append(row(kk(41), nik(46), "Kurnia", HEAD))  # K: new
    return rows


async def snapshot(runtime: ServiceRuntime) -> dict[str, Any]:
    """Versions by No. KK, history rows, outbox rows."""
    outbox = runtime.definition.messaging.outbox
    async with runtime.sessions() as s:
        versions = {k: int(v) for k, v in await s.execute(select(family.c.no_kk, family.c.version))}
        history = int((await s.execute(select(func.count()).select_from(family_history))).scalar_one())
        events = int((await s.execute(select(func.count()).select_from(outbox))).scalar_one())
    return {"versions": versions, "history": history, "events": events}


async def test_unchanged_reimport_changes_nothing_and_a_changed_one_classifies_each_change(app: App) -> None:
    first = await submit(app.api, "/imports/extracts", csv_text(base_rows()))
    assert first["status"] == "succeeded", first
    assert first["counts"]["families_inserted"] == 10
    # Every phase is recorded, in order, with its time (the job API shows the current one while it runs).
    progress = first["progress"]
    assert [p["phase"] for p in progress["phases"]] == list(EXTRACT_PHASES)
    assert all(p["seconds"] >= 0 for p in progress["phases"])
    assert (progress["phase"], progress["rows_read"]) == (None, len(base_rows()))
    async with app.runtime.sessions() as s:
        j_id, j_version = (await s.execute(select(family.c.id, family.c.version).where(family.c.no_kk == kk(40)))).one()
    r = await app.operator.post(
        f"/families/{j_id}/members",
        {"nik": nik(45, day="52", yy="90"), "name": "Juwita", "relationship": "istri"},
        headers={"If-Match": f'"{j_version}"'},
    )
    assert r.status_code == 201, r.text
    before = await snapshot(app.runtime)

    again = await submit(app.api, "/imports/extracts", csv_text(base_rows()), raw=True)
    c = again["counts"]
    assert (c["families_inserted"], c["families_updated"], c["families_unchanged"]) == (0, 0, 10)
    assert (c["members_inserted"], c["members_updated"], c["members_removed"], c["members_unchanged"]) == (0, 0, 0, 14)
    assert (c["events_emitted"], c["desil_snapshots"], c["flags_raised"], c["status_changed"]) == (0, 0, 0, 0)
    assert await snapshot(app.runtime) == before

    types_before = await outbox_types(app.runtime)
    changed = await submit(app.api, "/imports/extracts", csv_text(changed_rows()))
    c = changed["counts"]
    assert (c["families_inserted"], c["families_updated"], c["families_unchanged"]) == (1, 6, 4)
    assert (c["members_inserted"], c["members_updated"], c["members_removed"]) == (2, 2, 1)
    assert c["desil_snapshots"] == 3  # G and H in their new period, K
    assert (await outbox_types(app.runtime)) - types_before == {
        "household.updated": 6,  # A B C D E F
        "household.registered": 1,  # K
        "household.desil_changed": 2,  # G (3 → 6) and H (3 → 3 in 2026-Q2)
    }
    after = await snapshot(app.runtime)
    bumped = {k: after["versions"][k] - before["versions"][k] for k in before["versions"]}
    assert bumped == {kk(31): 1, kk(32): 1, kk(33): 1, kk(34): 1, kk(35): 1, kk(36): 1, kk(37): 1, kk(38): 1} | {
        kk(39): 0,
        kk(40): 0,
    }
    assert after["history"] - before["history"] == after["events"] - before["events"] == 9

    outbox = app.runtime.definition.messaging.outbox
    async with app.runtime.sessions() as s:
        h = (await s.execute(select(family).where(family.c.no_kk == kk(38)))).mappings().one()
        assert (h["desil"], h["desil_period"], h["desil_since"]) == (3, "2026-Q2", "2026-Q1")
        event = (
            (await s.execute(select(outbox).where(outbox.c.subject == h["id"]).order_by(outbox.c.aggregate_version)))
            .mappings()
            .all()[-1]
        )
        assert (event["event_type"], event["aggregate_version"]) == ("household.desil_changed", h["version"])
        data = json.loads(str(event["data"]))
        assert (data["desil"], data["desil_period"]) == (3, "2026-Q2")
        assert data["change"] == {
            "type": "desil_changed",
            "from": 3,
            "to": 3,
            "period": "2026-Q2",
            "source": "dtsen_import",
        }
        history = (
            await s.execute(
                select(family_history.c.action, family_history.c.after).where(
                    family_history.c.family_id == h["id"], family_history.c.version == h["version"]
                )
            )
        ).one()
        assert history.action == "desil_changed"
        assert history.after["desil_period"] == "2026-Q2"
        moved = (
            await s.execute(
                select(family.c.no_kk, member.c.active)
                .join(family, family.c.id == member.c.family_id)
                .where(member.c.nik == nik(39, day="10", month="03", yy="12"))
            )
        ).all()
        assert [tuple(m) for m in moved] == [(kk(36), True)]  # the same member row, now on F
        local = (
            await s.execute(select(member.c.active, member.c.source).where(member.c.nik == nik(45, day="52", yy="90")))
        ).one()
        assert local.active is True
        assert local.source != "dtsen_import"
