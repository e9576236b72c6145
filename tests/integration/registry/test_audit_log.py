"""The registry's audit log: every write and every reveal, hash-chained; tampering is found at the exact entry."""

from __future__ import annotations

import subprocess
import sys

import asyncpg

from shared.auth.principal import Role
from tests.integration.registry.conftest import Registry
from tests.integration.registry.helpers import family_body, kk
from tests.support.infra import REPO, Infra


async def test_writes_and_reveals_are_chained_and_tampering_is_detected(
    registry: Registry, infra: Infra, pg_database: str
) -> None:
    verifikator = registry.as_(Role.VERIFIKATOR)
    created = await verifikator.create(family_body(no_kk=kk(701)))
    family_id = created["id"]
    etag = (await verifikator.get(f"/families/{family_id}")).headers["etag"]
    r = await verifikator.patch(f"/families/{family_id}", {"address": "Jl. Baru 9"}, headers={"If-Match": etag})
    assert r.status_code == 200, r.text
    revealed = await verifikator.get(f"/families/{family_id}", params={"reveal": "true", "purpose": "ground check"})
    assert revealed.status_code == 200

    auditor = registry.as_(Role.AUDITOR)
    page = (await auditor.get("/audit")).json()["entries"]
    actions = [e["action"] for e in page]
    assert any(a.startswith("POST /families") for a in actions)
    update = next(e for e in page if e["action"].startswith("PATCH /families/{family_id}"))
    assert update["record_id"] == family_id
    assert "Jl. Baru 9" in update["after"]
    assert update["actor"] == "verifikator-13.71"
    reveal = next(e for e in page if e["action"] == "reveal personal data")
    assert reveal["purpose"] == "ground check"
    assert [e["seq"] for e in page] == list(range(1, len(page) + 1))

    assert (await auditor.get("/audit/verify")).json() == {
        "checked": len(page),
        "intact": True,
        "broken_at_seq": None,
        "reason": None,
        "anchored_seq": None,
        "unanchored": len(page),
    }
    # Only auditors read it.
    assert (await verifikator.get("/audit")).status_code == 403

    env = {"TEPAT_REGISTRY_DATABASE_URL": registry.runtime.settings.resolved_database_url, "PATH": "/usr/bin:/bin"}
    ok = subprocess.run(
        [sys.executable, "-m", "services.cli", "audit-verify", "registry"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "intact" in ok.stdout

    # Someone with database access edits entry 2: the chain breaks exactly there.
    admin = await asyncpg.connect(infra.admin_url(pg_database))
    try:
        await admin.execute("UPDATE registry.audit_log SET actor = 'someone-else' WHERE seq = 2")
    finally:
        await admin.close()
    report = (await auditor.get("/audit/verify")).json()
    assert report["intact"] is False
    assert report["broken_at_seq"] == 2
    assert report["checked"] == 1
    assert "altered" in report["reason"]
    broken = subprocess.run(
        [sys.executable, "-m", "services.cli", "audit-verify", "registry"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert broken.returncode == 1
    assert "BROKEN at entry 2" in broken.stdout


async def test_deleting_an_entry_is_detected(registry: Registry, infra: Infra, pg_database: str) -> None:
    verifikator = registry.as_(Role.VERIFIKATOR)
    for serial in (711, 712, 713):
        await verifikator.create(family_body(no_kk=kk(serial), head=f"13710115058{serial:05d}"))
    admin = await asyncpg.connect(infra.admin_url(pg_database))
    try:
        await admin.execute("DELETE FROM registry.audit_log WHERE seq = 2")
    finally:
        await admin.close()
    report = (await registry.as_(Role.AUDITOR).get("/audit/verify")).json()
    assert (report["intact"], report["broken_at_seq"]) == (False, 2)
    assert "missing" in report["reason"]
