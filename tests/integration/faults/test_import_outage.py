"""An import job outlives a database outage (issue 16's chaos finding: a job interrupted by a PostgreSQL crash
stayed `running` for ever): it waits the outage out, runs again from the start and records its outcome."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.registry.families.changes import Actor
from services.registry.families.models import family, member
from services.registry.imports.models import import_job
from services.registry.imports.progress import EXTRACT_PHASES, ImportProgress
from services.registry.imports.service import EXTRACT, create_job, new_job_path, run_job
from shared.runtime.service import ServiceRuntime
from tests.integration.registry.helpers import kk, nik
from tests.integration.registry.import_support import KEL, csv_text, row
from tests.support.durable_pg import DurablePostgres

pytestmark = pytest.mark.infra

FAMILIES = 40


async def _queued_job(runtime: ServiceRuntime) -> str:
    rows = [row(kk(100 + i), nik(100 + i), f"Kepala {i}", "kepala_keluarga") for i in range(FAMILIES)]
    job_id, path = new_job_path(runtime.settings.data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text(rows), encoding="utf-8")
    async with runtime.sessions() as session, session.begin():
        await create_job(
            session,
            job_id=job_id,
            kind=EXTRACT,
            file_name="dtsen.csv",
            path=Path(path),
            size=path.stat().st_size,
            actor=Actor("operator-dinsos", "operator_dinsos"),
            wilayah=KEL,
        )
    return job_id


async def _counts(runtime: ServiceRuntime) -> tuple[int, int]:
    async with runtime.sessions() as session:
        families = (await session.execute(select(func.count()).select_from(family))).scalar_one()
        members = (await session.execute(select(func.count()).select_from(member))).scalar_one()
    return int(families), int(members)


async def test_a_crash_in_the_middle_of_an_import_is_waited_out_and_the_job_lands_whole(
    registry_runtime: ServiceRuntime, durable_pg: DurablePostgres
) -> None:
    runtime = registry_runtime
    job_id = await _queued_job(runtime)
    crashed = threading.Event()

    def crash_while_writing(progress: ImportProgress) -> None:
        # The first time the job reaches the merge phase, PostgreSQL goes down as on a power cut, and comes back
        # two seconds later (from another thread: the job must be waiting by then, not blocking the loop).
        if progress.current == "writing" and not crashed.is_set():
            crashed.set()
            durable_pg.crash()
            threading.Timer(2.0, durable_pg.start).start()

    assert "writing" in EXTRACT_PHASES
    result = await asyncio.wait_for(
        run_job(runtime.sessions, job_id, progress=ImportProgress(EXTRACT_PHASES, crash_while_writing)), timeout=120
    )
    assert crashed.is_set()
    assert result["status"] == "succeeded", result
    assert result["counts"]["families_inserted"] == FAMILIES, result["counts"]
    assert await _counts(runtime) == (FAMILIES, FAMILIES)
    # One job, one outcome: nothing left running, the phases of the rolled-back attempt are not reported.
    async with runtime.sessions() as session:
        statuses = (await session.execute(select(import_job.c.status))).scalars().all()
    assert statuses == ["succeeded"]
    assert [p["phase"] for p in result["progress"]["phases"]] == list(EXTRACT_PHASES)


async def test_a_job_started_while_the_database_is_down_runs_when_it_is_back(
    registry_runtime: ServiceRuntime, durable_pg: DurablePostgres
) -> None:
    runtime = registry_runtime
    job_id = await _queued_job(runtime)
    durable_pg.stop()
    threading.Timer(2.0, durable_pg.start).start()
    result = await asyncio.wait_for(run_job(runtime.sessions, job_id), timeout=120)
    assert result["status"] == "succeeded", result
    assert await _counts(runtime) == (FAMILIES, FAMILIES)
