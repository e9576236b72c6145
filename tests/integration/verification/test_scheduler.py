"""The scheduler runs verification's jobs: recorded runs, catch-up after downtime, one runner across instances,
`GET /ops/jobs`, `tepat jobs run`, and the embedded mode lapsing sanggah with nobody calling the ops route."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from services.verification.app import create_app
from services.verification.objections.models import objection
from services.verification.settings import VerificationSettings
from shared.runtime.scheduler import JobRun, Scheduler
from shared.runtime.service import ServiceRuntime
from tests.integration.verification.helpers import KEL_A, Api, seed_family
from tests.support.api import auth, running
from tests.support.infra import REPO
from tests.support.waiting import wait_for

pytestmark = pytest.mark.infra


def _objection(hid: str, photo: dict[str, str]) -> dict[str, object]:
    return {
        "household_id": hid,
        "objector_kelurahan_code": KEL_A,
        "grounds": "well_off",
        "photo": photo,
        "gps": {"lat": -0.94, "lon": 100.36},
    }


async def _received_at(api: Api) -> datetime:
    async with api.runtime.sessions() as session:
        received: datetime = (await session.execute(select(func.min(objection.c.received_at)))).scalar_one()
    return received


async def _lapse_runs(runtime: ServiceRuntime) -> list[JobRun]:
    runs, _ = await runtime.scheduler.recent_runs(job="objections-lapse", limit=100)
    return list(reversed(runs))


async def test_lapse_job_runs_when_due_catches_up_and_is_recorded(api: Api) -> None:
    photo = await api.photo("a new car")
    hid = await seed_family(api.runtime, kelurahan=KEL_A)
    operator = api.as_("operator_kelurahan", KEL_A, subject="op-a")
    ids = [
        (await api.call("POST", "/objections", operator, _objection(hid, photo), expect=201))["id"] for _ in range(3)
    ]
    await api.call("POST", f"/objections/{ids[0]}/decision", api.as_("verifikator"), {"result": "rejected"})
    received = await _received_at(api)
    scheduler = api.runtime.scheduler
    now = {"t": received + timedelta(days=13)}
    scheduler.clock = lambda: now["t"]

    ran = await scheduler.tick()
    assert {r.job for r in ran} == {
        "objections-lapse",
        "ground-checks-overdue",
        "notifications-send",
        "complaints-escalate",
        "outbox-health",
        "audit-checkpoint",
    }
    # The decision above wrote audit entries; the hourly checkpoint signs the chain up to the newest of them.
    [signed] = [r for r in ran if r.job == "audit-checkpoint"]
    assert signed.status == "succeeded"
    assert signed.counts["seq"] > 0
    now["t"] += timedelta(minutes=5)
    # hourly jobs not due again yet
    assert {r.job for r in await scheduler.tick()} == {"outbox-health", "notifications-send"}
    # The office was down for two days: the first tick afterwards lapses everything overdue, once.
    now["t"] = received + timedelta(days=15)
    assert [r.counts for r in await scheduler.tick() if r.job == "objections-lapse"] == [{"lapsed": 2}]
    now["t"] += timedelta(hours=2)
    assert [r.counts for r in await scheduler.tick() if r.job == "objections-lapse"] == [{"lapsed": 0}]

    runs = await _lapse_runs(api.runtime)
    assert [r.counts for r in runs] == [{"lapsed": 0}, {"lapsed": 2}, {"lapsed": 0}]
    assert {r.status for r in runs} == {"succeeded"}
    assert all(r.finished_at is not None and r.finished_at >= r.started_at for r in runs)
    statuses = [(await api.call("GET", f"/objections/{i}", api.as_("verifikator")))["status"] for i in ids]
    assert statuses == ["rejected", "lapsed", "lapsed"]

    page = await api.call("GET", "/ops/jobs?job=objections-lapse", api.as_("system"))
    jobs = {j["name"]: j for j in page["jobs"]}
    assert jobs["objections-lapse"]["last_run"]["counts"] == {"lapsed": 0}
    assert jobs["objections-lapse"]["every_seconds"] == 3600
    # the sanggah opened a ground check (due in 14 days), nobody took it: overdue by now
    assert jobs["ground-checks-overdue"]["last_run"]["counts"] == {"overdue": 1, "overdue_unassigned": 1}
    assert page["runs_total"] == 3
    assert [r["counts"] for r in page["runs"]] == [{"lapsed": 0}, {"lapsed": 2}, {"lapsed": 0}]
    await api.call("GET", "/ops/jobs", api.as_("verifikator"), expect=403)


async def test_one_runner_per_job_across_instances(api: Api) -> None:
    first = api.runtime.scheduler
    second = Scheduler(
        service="verification",
        engine=api.runtime.engine,
        sessions=api.runtime.sessions,
        outbox=api.runtime.outbox,
        settings=api.runtime.settings,
        table=first.table,
        jobs=list(first.jobs.values()),
    )
    results = await asyncio.gather(*(s.run_job("objections-lapse", force=False) for s in (first, second, first)))
    assert sum(r is not None for r in results) == 1
    assert len(await _lapse_runs(api.runtime)) == 1
    # A second round, same period: nobody runs it again.
    again, ticked = await asyncio.gather(first.run_job("objections-lapse", force=False), second.tick())
    assert again is None
    assert "objections-lapse" not in {r.job for r in ticked}
    assert len(await _lapse_runs(api.runtime)) == 1


async def test_tepat_jobs_run_and_list(api: Api) -> None:
    settings = api.runtime.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEPAT_")}
    env |= {
        "TEPAT_VERIFICATION_DATABASE_URL": settings.resolved_database_url,
        "TEPAT_VERIFICATION_DATA_DIR": str(settings.data_dir),
    }

    def tepat(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "services.cli", "jobs", *args]
        return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)

    ran = await asyncio.to_thread(tepat, "run", "objections-lapse")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "verification.objections-lapse: succeeded {'lapsed': 0}"
    [run] = await _lapse_runs(api.runtime)
    assert run.trigger == "manual"
    listed = await asyncio.to_thread(tepat, "list", "verification")
    assert listed.returncode == 0, listed.stderr
    assert "verification.objections-lapse  every 1:00:00  last succeeded" in listed.stdout
    assert (await asyncio.to_thread(tepat, "run", "nothing-like-this")).returncode == 2


async def test_embedded_app_runs_the_lapse_without_anyone_calling_it(sqlite_settings: Any, tmp_path: Path) -> None:
    app = create_app(sqlite_settings(VerificationSettings))
    async with running(app) as client:
        runtime: ServiceRuntime = app.state.runtime

        async def lapse_runs() -> int:
            return len(await _lapse_runs(runtime))

        await wait_for(lapse_runs, lambda n: n >= 1)
        page = (await client.get("/ops/jobs", headers=auth(tmp_path, "system"))).json()
        assert {j["name"] for j in page["jobs"]} >= {"objections-lapse", "ground-checks-overdue", "outbox-health"}
        assert any(t.task == "scheduler" and t.alive for t in runtime.task_health())
