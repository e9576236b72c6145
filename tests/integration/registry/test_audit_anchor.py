"""The anchored audit chain: signed checkpoints catch a deleted tail, an emptied table, NULL/'' swaps and a chain
recomputed forward after an edit, on PostgreSQL and on SQLite (embedded mode); imports are in the chain."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update

from demo.generator import generate_city
from services.registry.app import create_app
from services.registry.families.models import family_history
from services.registry.settings import RegistrySettings
from shared.audit.chain import GENESIS, AuditChainBroken, AuditLog, entry_hash
from shared.auth.principal import Role
from shared.bus.local import LocalBus
from shared.runtime.service import ServiceRuntime
from tests.integration.registry.conftest import registry_on
from tests.integration.registry.helpers import Api, family_body, kk, nik
from tests.integration.registry.import_support import submit
from tests.support.api import running
from tests.support.infra import REPO, Infra


class Service:
    """A running registry, its runtime and settings."""

    def __init__(self, client: Any, runtime: ServiceRuntime, settings: RegistrySettings) -> None:
        self.client, self.runtime, self.settings = client, runtime, settings

    def api(self, role: Role) -> Api:
        return Api(self.client, self.settings.data_dir, role)

    async def report(self) -> dict[str, Any]:
        data: dict[str, Any] = (await self.api(Role.AUDITOR).get("/audit/verify")).json()
        return data

    async def sql(self, statement: str) -> None:
        # The service's own database role: exactly "anyone with write access to the table".
        async with self.runtime.engine.begin() as conn:
            await conn.execute(text(statement))

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "TEPAT_REGISTRY_DATABASE_URL": self.settings.resolved_database_url,
            "TEPAT_REGISTRY_DATA_DIR": str(self.settings.data_dir),
        }
        return subprocess.run(
            [sys.executable, "-m", "services.cli", *args], cwd=REPO, env=env, capture_output=True, text=True
        )


@pytest.fixture(params=["postgresql", "sqlite"])
async def service(request: pytest.FixtureRequest, infra: Infra, tmp_path: Path) -> AsyncIterator[Service]:
    """The registry on PostgreSQL and in the embedded mode (SQLite), checkpointing only when asked."""
    async with registry_on(request.param, infra, tmp_path, audit_checkpoint_every=0) as (client, runtime, settings):
        yield Service(client, runtime, settings)


async def _write(service: Service, serials: range) -> None:
    verifikator = service.api(Role.VERIFIKATOR)
    for serial in serials:
        await verifikator.create(family_body(no_kk=kk(serial), head=nik(serial)))


async def _checkpointed(service: Service, entries: int = 4) -> int:
    await _write(service, range(801, 801 + entries))
    checkpoint = await service.runtime.audit.write_checkpoint(service.runtime.sessions)
    assert checkpoint is not None
    assert checkpoint.seq == entries
    report = await service.report()
    assert (report["intact"], report["anchored_seq"], report["unanchored"]) == (True, entries, 0)
    return entries


async def test_untampered_chain_verifies_and_the_key_stays_out_of_the_database(service: Service) -> None:
    await _checkpointed(service)
    ok = service.cli("audit-verify", "registry")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "intact" in ok.stdout
    assert "signed checkpoints up to entry 4" in ok.stdout
    key_pem = service.settings.audit_key_path.read_text()
    secret = "".join(key_pem.splitlines()[1:-1])
    assert service.settings.audit_key_path.stat().st_mode & 0o077 == 0
    async with service.runtime.engine.connect() as conn:
        for table in service.runtime.definition.metadata.sorted_tables:
            for row in (await conn.execute(select(table))).all():
                assert secret not in str(tuple(row)), table.name
    # Nothing new: no second checkpoint; the CLI says so.
    assert await service.runtime.audit.write_checkpoint(service.runtime.sessions) is None
    assert "nothing new" in service.cli("audit-checkpoint", "registry").stdout


async def test_deleting_the_tail_is_detected(service: Service) -> None:
    await _checkpointed(service)
    await service.sql("DELETE FROM audit_log WHERE seq >= 3")
    report = await service.report()
    assert (report["intact"], report["broken_at_seq"]) == (False, 3)
    assert "missing" in report["reason"]
    broken = service.cli("audit-verify", "registry")
    assert broken.returncode == 1
    assert "BROKEN at entry 3" in broken.stdout
    with pytest.raises(AuditChainBroken):
        await service.runtime.audit.write_checkpoint(service.runtime.sessions)


async def test_deleting_everything_is_detected(service: Service) -> None:
    await _checkpointed(service)
    await service.sql("DELETE FROM audit_log")
    report = await service.report()
    assert (report["intact"], report["broken_at_seq"], report["checked"]) == (False, 1, 0)
    assert service.cli("audit-verify", "registry").returncode == 1


@pytest.mark.parametrize("swap", ["SET purpose = '' WHERE seq = 2", "SET before = '' WHERE seq = 2"])
async def test_null_and_empty_string_swaps_are_detected(service: Service, swap: str) -> None:
    await _checkpointed(service)
    await service.sql(f"UPDATE audit_log {swap}")
    report = await service.report()
    assert (report["intact"], report["broken_at_seq"]) == (False, 2)
    assert "altered" in report["reason"]


async def test_an_edit_recomputed_forward_is_caught_by_the_signed_checkpoint(service: Service) -> None:
    await _checkpointed(service)
    await service.sql("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2")
    # The attacker knows the algorithm and rewrites every hash after the edit.
    t = service.runtime.definition.messaging.audit_log
    async with service.runtime.engine.begin() as conn:
        prev = GENESIS
        for row in (await conn.execute(select(t).order_by(t.c.seq))).all():
            new = entry_hash(prev, dict(row._mapping), row.hash_version)
            await conn.execute(update(t).where(t.c.seq == row.seq).values(prev_hash=prev, hash=new))
            prev = new
    async with service.runtime.sessions() as session:
        checked, broken = await AuditLog(t).verify(session)
    assert (checked, broken) == (4, None)  # the chain alone agrees with itself again
    report = await service.report()
    assert (report["intact"], report["broken_at_seq"]) == (False, 4)
    assert "signed checkpoint" in report["reason"]
    assert service.cli("audit-verify", "registry").returncode == 1


async def test_a_forged_checkpoint_line_is_rejected(service: Service) -> None:
    await _checkpointed(service)
    path = service.settings.audit_checkpoint_path
    line = json.loads(path.read_text().splitlines()[-1])
    path.write_text(json.dumps({**line, "head": "f" * 64}) + "\n")
    report = await service.report()
    assert report["intact"] is False
    assert "signature" in report["reason"]


async def test_rows_written_before_the_migration_still_verify(service: Service) -> None:
    # A version-1 row as the old code wrote it, then new rows chained after it.
    t = service.runtime.definition.messaging.audit_log
    async with service.runtime.engine.begin() as conn:
        fields = {
            "seq": 1,
            "at": datetime(2026, 11, 1, 8, 0, tzinfo=UTC),
            "actor": "old",
            "role": "verifikator",
            "action": "POST /families",
            "record_type": "family",
            "record_id": None,
            "purpose": None,
            "before": None,
            "after": None,
            "request_id": None,
        }
        await conn.execute(
            t.insert().values(**fields, prev_hash=GENESIS, hash=entry_hash(GENESIS, fields, 1), hash_version=1)
        )
    await _write(service, range(851, 853))
    report = await service.report()
    assert (report["intact"], report["checked"]) == (True, 3)
    assert await service.runtime.audit.write_checkpoint(service.runtime.sessions) is not None
    # Downgrading a newer row to the old encoding breaks the chain.
    await service.sql("UPDATE audit_log SET hash_version = 1 WHERE seq = 3")
    assert (await service.report())["broken_at_seq"] == 3


async def test_checkpoints_every_n_entries(request: pytest.FixtureRequest) -> None:
    settings = request.getfixturevalue("sqlite_settings")(RegistrySettings, run_workers=False, audit_checkpoint_every=2)
    app = create_app(settings, bus=LocalBus())
    async with running(app) as client:
        await _write(Service(client, app.state.runtime, settings), range(861, 866))
    lines = [json.loads(x) for x in settings.audit_checkpoint_path.read_text().splitlines()]
    assert [c["seq"] for c in lines] == [2, 4]


async def test_imports_through_the_api_and_the_cli_are_in_the_chain(service: Service, tmp_path: Path) -> None:
    generate_city(tmp_path / "city", families_count=40, seed=11)
    extract = tmp_path / "city" / "extract.csv"
    job = await submit(service.api(Role.VERIFIKATOR), "/imports/extracts", extract.read_text())
    assert job["status"] == "succeeded", job
    done = service.cli("import-list", "death", str(tmp_path / "city" / "death_list.csv"))
    assert done.returncode == 0, done.stderr
    cli_job = json.loads(done.stdout)

    entries = (await service.api(Role.AUDITOR).get("/audit", params={"limit": 500})).json()["entries"]
    imports = [e for e in entries if e["record_type"] == "import_job"]
    assert [e["record_id"] for e in imports] == [job["id"], cli_job["id"]]
    api_entry, cli_entry = (json.loads(e["after"]) for e in imports)
    assert imports[0]["actor"] == "verifikator@13.71" or imports[0]["actor"].startswith("verifikator")
    assert imports[1]["actor"].startswith("cli:")
    assert api_entry["file_sha256"] == hashlib.sha256(extract.read_bytes()).hexdigest()
    assert api_entry["counts"] == job["counts"]
    assert cli_entry["counts"] == cli_job["counts"]
    async with service.runtime.sessions() as s:
        written = len(
            (await s.execute(select(family_history.c.id).where(family_history.c.reason.like(f"% {job['id']}")))).all()
        )
    assert api_entry["covers"]["rows"] == written >= job["counts"]["families_inserted"] > 30
    # The CLI job signed a checkpoint after it committed: everything so far is anchored.
    ok = service.cli("audit-verify", "registry")
    assert ok.returncode == 0, ok.stdout
    assert f"up to entry {len(entries)}" in ok.stdout, ok.stdout

    # A family's imported history edited afterwards: the import's entry no longer covers it.
    await service.sql(
        f"UPDATE family_history SET actor = 'x' WHERE id = (SELECT max(id) FROM family_history "
        f"WHERE reason LIKE '% {job['id']}')"
    )
    report = await service.report()
    assert (report["intact"], report["broken_at_seq"]) == (False, imports[0]["seq"])
    assert "covers" in report["reason"]
