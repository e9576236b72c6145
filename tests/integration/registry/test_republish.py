"""`POST /ops/households/republish` and `tepat republish-households`: the current state of families sent again at a
new version, narrowed by wilayah or a list of ids, audited, repeatable, on PostgreSQL and in the embedded mode."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from services.registry.app import create_app
from services.registry.families.models import family, family_history
from services.registry.settings import RegistrySettings
from shared.auth.principal import Role
from shared.auth.tokens import ensure_dev_keys
from shared.bus.local import LocalBus
from tests.integration.registry.conftest import Registry
from tests.integration.registry.helpers import KEL_KURANJI, KEL_SELATAN, family_body, kk, nik
from tests.integration.registry.test_import_cli import _tepat
from tests.integration.registry.test_import_lists import assert_consistent_with_single_writes
from tests.support.api import running
from tests.support.infra import create_database, drop_database

REPUBLISH = "/ops/households/republish"
REPUBLISHED = "household.republished"


@pytest.fixture(params=["postgresql", "sqlite"])
async def service(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Registry]:
    """The registry on PostgreSQL and in the embedded mode (SQLite), without workers: events stay in the outbox."""
    ensure_dev_keys(tmp_path)
    database, infra = None, None
    if request.param == "postgresql":
        request.applymarker(pytest.mark.infra)
        infra = request.getfixturevalue("infra")
        database = await create_database(infra, "t")
        url = infra.service_url("registry", database)
        settings = RegistrySettings(
            data_dir=tmp_path, database_url=url, bus="kafka", auto_migrate=True, run_workers=False
        )
        app = create_app(settings)
    else:
        settings = RegistrySettings(data_dir=tmp_path, bus="local", run_workers=False)
        app = create_app(settings, bus=LocalBus())
    try:
        async with running(app) as client:
            yield Registry(client, app.state.runtime, settings.data_dir)
    finally:
        if infra is not None and database is not None:
            await drop_database(infra, database)


async def _families(registry: Registry) -> tuple[list[str], list[str]]:
    """Three families in Padang Selatan (13.71.01), two in Kuranji (13.71.09): their ids."""
    operator = registry.as_(Role.VERIFIKATOR)
    selatan = [
        (await operator.create(family_body(no_kk=kk(s), head=nik(s), kelurahan=KEL_SELATAN)))["id"] for s in (1, 2, 3)
    ]
    kuranji = [
        (await operator.create(family_body(no_kk=kk(s), head=nik(s), kelurahan=KEL_KURANJI)))["id"] for s in (4, 5)
    ]
    return selatan, kuranji


async def _republish(registry: Registry, body: dict[str, Any], *, expect: int = 200, **who: Any) -> Any:
    caller = registry.as_(who.get("role", Role.SYSTEM), who.get("wilayah", "13.71"))
    r = await caller.post(REPUBLISH, body)
    assert r.status_code == expect, r.text
    return r.json()


async def _versions(registry: Registry) -> dict[str, int]:
    async with registry.runtime.sessions() as s:
        return {k: v for k, v in await s.execute(select(family.c.id, family.c.version))}


async def _republished(registry: Registry) -> list[tuple[str, int, dict[str, Any]]]:
    """(subject, version, data) of every household.republished event, in outbox order."""
    outbox = registry.runtime.definition.messaging.outbox
    async with registry.runtime.sessions() as s:
        rows = await s.execute(
            select(outbox.c.subject, outbox.c.aggregate_version, outbox.c.data)
            .where(outbox.c.event_type == REPUBLISHED)
            .order_by(outbox.c.id)
        )
        return [(subject, version, json.loads(data)) for subject, version, data in rows]


async def test_a_wilayah_is_republished_at_new_versions_with_history_and_audit(service: Registry) -> None:
    selatan, kuranji = await _families(service)
    before = await _versions(service)

    run = await _republish(service, {"wilayah": "13.71.01"})
    assert (run["wilayah"], run["families"], run["batches"], run["missing_family_ids"]) == ("13.71.01", 3, 1, [])
    after = await _versions(service)
    assert {f: after[f] - before[f] for f in after} == {**{f: 1 for f in selatan}, **{f: 0 for f in kuranji}}
    events = await _republished(service)
    assert [(subject, version) for subject, version, _ in events] == [(f, after[f]) for f in sorted(selatan)]
    assert {d["change"]["type"] for _, _, d in events} == {"republished"}
    assert {d["change"]["republish_id"] for _, _, d in events} == {run["id"]}
    assert all(len(d["member_digests"]) == 1 for _, _, d in events)
    # Every family's newest event is the state the single-write path builds, at its current version.
    await assert_consistent_with_single_writes(service.runtime)

    async with service.runtime.sessions() as s:
        history = (
            await s.execute(
                select(family_history.c.family_id, family_history.c.version, family_history.c.actor_role).where(
                    family_history.c.action == "republished"
                )
            )
        ).all()
    assert sorted(history) == sorted((f, after[f], "system") for f in selatan)
    audit = (await service.as_(Role.AUDITOR).get("/audit", params={"record_id": run["id"]})).json()["entries"]
    assert [(e["action"], e["record_type"]) for e in audit] == [("republish households", "household_republish")]
    recorded = json.loads(audit[0]["after"])
    assert (recorded["wilayah"], recorded["families"], recorded["covers"]["rows"]) == ("13.71.01", 3, 3)
    verified = (await service.as_(Role.AUDITOR).get("/audit/verify")).json()
    assert verified["intact"] is True


async def test_a_family_republished_twice_and_a_list_of_ids(service: Registry) -> None:
    selatan, kuranji = await _families(service)
    before = await _versions(service)
    wanted = [selatan[0], kuranji[0], "no-such-family"]

    first = await _republish(service, {"family_ids": wanted})
    second = await _republish(service, {"family_ids": wanted})
    assert first["id"] != second["id"]
    for run in (first, second):
        assert (run["wilayah"], run["families"], run["missing_family_ids"]) == ("13.71", 2, ["no-such-family"])
    after = await _versions(service)
    assert {f for f in after if after[f] != before[f]} == {selatan[0], kuranji[0]}
    assert after[selatan[0]] == before[selatan[0]] + 2
    events = await _republished(service)
    assert sorted((subject, version) for subject, version, _ in events) == sorted(
        (f, before[f] + n) for f in (selatan[0], kuranji[0]) for n in (1, 2)
    )
    # A list and a wilayah together: only the listed families inside the wilayah.
    narrowed = await _republish(service, {"wilayah": "13.71.09", "family_ids": wanted})
    assert (narrowed["families"], narrowed["missing_family_ids"]) == (1, sorted(["no-such-family", selatan[0]]))
    await assert_consistent_with_single_writes(service.runtime)


async def test_who_may_republish(service: Registry) -> None:
    await _families(service)
    for role in (Role.VERIFIKATOR, Role.KEPALA_DINAS, Role.OPERATOR_KELURAHAN, Role.AUDITOR):
        denied = await _republish(service, {"wilayah": "13.71.01"}, expect=403, role=role)
        assert denied["code"] == "forbidden", role
    # A system client scoped to a kecamatan republishes there (by default) and nowhere else.
    out = await _republish(service, {"wilayah": "13.71.09"}, expect=403, wilayah="13.71.01")
    assert out["code"] == "out_of_scope"
    assert (await _republish(service, {}, wilayah="13.71.01"))["families"] == 3
    invalid: list[dict[str, Any]] = [{"wilayah": "13.71.0"}, {"family_ids": []}, {"family_ids": [" "]}, {"size": 5}]
    for body in invalid:
        assert (await _republish(service, body, expect=422))["code"] == "validation", body
    assert len(await _republished(service)) == 3


@pytest.mark.infra
async def test_the_command_republishes_in_batches(registry: Registry) -> None:
    selatan, kuranji = await _families(registry)
    before = await _versions(registry)
    code, out, err = await _tepat(registry, "republish-households", "--wilayah", "13.71.01", "--batch-size", "2")
    assert code == 0, err
    run = json.loads(out)
    assert (run["families"], run["batches"]) == (3, 2)
    assert "batch 2: 3 families republished" in err
    after = await _versions(registry)
    assert {f for f in after if after[f] != before[f]} == set(selatan)
    async with registry.runtime.sessions() as s:
        entries = (await registry.as_(Role.AUDITOR).get("/audit", params={"record_id": run["id"]})).json()["entries"]
        assert [json.loads(e["after"])["covers"]["rows"] for e in entries] == [2, 1]
        assert {e["actor"].startswith("cli:") for e in entries} == {True}
        republished = select(func.count()).where(family_history.c.action == "republished")
        assert (await s.execute(republished)).scalar_one() == 3
    code, _, err = await _tepat(registry, "republish-households", "--wilayah", "13.71.0")
    assert (code, "invalid wilayah" in err) == (2, True)
    code, _, err = await _tepat(registry, "republish-households", "--batch-size", "0")
    assert (code, "invalid batch_size" in err) == (2, True)
    assert len(await _republished(registry)) == 3
    assert set(kuranji).isdisjoint(subject for subject, _, _ in await _republished(registry))
