"""Large exports as jobs: progress that only moves forward to the total, a file equal to the streamed export,
a download only for the caller who asked (audited), on PostgreSQL and on SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from sqlalchemy import insert, select

from services.registry.app import create_app
from services.registry.database import export_jobs, messaging
from services.registry.families.schemas import FAMILY_COLUMNS
from services.registry.settings import RegistrySettings
from shared.auth.permissions import Permission
from shared.auth.principal import Role
from shared.events.envelope import utcnow
from shared.exports import jobs
from shared.exports.tabular import Column
from shared.runtime.service import ServiceRuntime
from tests.integration.registry.helpers import Api, family_body, kk, nik
from tests.support.api import running
from tests.support.exports import read_csv, read_xlsx
from tests.support.waiting import wait_for

SELATAN = "13.71.01.1001"


async def _families(api: Api, first: int, n: int) -> None:
    for i in range(first, first + n):
        head = nik(i)
        body = family_body(no_kk=kk(i), head=head, kelurahan=SELATAN)
        body["members"] = [{"nik": head, "name": f"Budi {i}", "relationship": "kepala_keluarga"}]
        await api.create(body)


async def _job_flow(client: Any, settings: RegistrySettings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 1)
    operator = Api(client, settings.data_dir, Role.OPERATOR_KELURAHAN, SELATAN)
    await _families(operator, 1, 4)
    streamed = await operator.get("/families/export?format=csv")
    assert streamed.status_code == 200  # 4 rows: under the threshold of 5, streamed at once

    for fmt in ("csv", "xlsx"):
        r = await operator.get(f"/families/export?format={fmt}&async=true")
        assert r.status_code == 202, r.text
        job = r.json()
        assert r.headers["Location"] == f"/exports/{job['id']}"
        assert job["rows_total"] == 4
        seen: list[int] = []

        async def status(job_id: str = job["id"], seen: list[int] = seen) -> dict[str, Any]:
            data: dict[str, Any] = (await operator.get(f"/exports/{job_id}")).json()
            seen.append(data["rows_written"])
            return data

        done = await wait_for(status, lambda j: j["status"] != "running", timeout=30)
        assert done["status"] == "succeeded", done
        assert seen == sorted(seen)
        assert done["rows_written"] == done["rows_total"] == 4
        assert done["progress"] == 1.0
        assert done["download"] == f"/exports/{job['id']}/file"
        file = await operator.get(done["download"])
        assert file.status_code == 200
        assert file.headers["content-disposition"].startswith("attachment;")
        read = read_csv if fmt == "csv" else read_xlsx
        assert len(read(file.content, FAMILY_COLUMNS)) == 4
        if fmt == "csv":
            assert file.content == streamed.content

    # Past the threshold an export is a job without being asked.
    await _families(operator, 5, 2)
    r = await operator.get("/families/export?format=csv")
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    await wait_for(lambda: status_of(operator, job_id), lambda j: j["status"] == "succeeded", timeout=30)
    # Another caller, even of the same role and wilayah, finds no such job; nor its file.
    other = Api(client, settings.data_dir, Role.OPERATOR_KELURAHAN, "13.71.01.1002")
    assert (await other.get(f"/exports/{job_id}")).status_code == 404
    assert (await other.get(f"/exports/{job_id}/file")).status_code == 404
    assert (await operator.get("/exports/nope")).status_code == 404
    # A file removed from the export folder is gone (a problem, not a server error).
    (settings.exports_path / f"{job_id}.csv").unlink()
    gone = await operator.get(f"/exports/{job_id}/file")
    assert gone.status_code == 410
    assert gone.json()["code"] == "export_gone"


async def status_of(api: Api, job_id: str) -> dict[str, Any]:
    """The job as its requester reads it."""
    data: dict[str, Any] = (await api.get(f"/exports/{job_id}")).json()
    return data


async def _downloads_audited(runtime: ServiceRuntime) -> int:
    audit = messaging.audit_log
    async with runtime.sessions() as session:
        rows = await session.execute(select(audit.c.action).where(audit.c.action == "download export"))
        return len(rows.all())


@pytest.mark.infra
async def test_export_jobs_on_postgresql(pg_settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = pg_settings(RegistrySettings, auto_migrate=True, run_workers=False, export_job_rows=5)
    app = create_app(settings)
    async with running(app) as client:
        await _job_flow(client, settings, monkeypatch)
        assert await _downloads_audited(app.state.runtime) == 2


async def test_export_jobs_embedded(sqlite_settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = sqlite_settings(RegistrySettings, export_job_rows=5)
    app = create_app(settings)
    async with running(app) as client:
        await _job_flow(client, settings, monkeypatch)
        assert await _downloads_audited(app.state.runtime) == 2


async def test_progress_is_recorded_while_the_file_is_written(sqlite_settings: Any) -> None:
    """Rows written are visible on the job while it runs, not only at the end."""
    settings = sqlite_settings(RegistrySettings)
    app = create_app(settings)
    gate = asyncio.Event()

    async def rows() -> AsyncIterator[Mapping[str, Any]]:
        for i in range(jobs.PROGRESS_EVERY * 2):
            yield {"n": i}
        await gate.wait()
        yield {"n": -1}

    async with running(app):
        runtime = app.state.runtime
        async with runtime.sessions() as session, session.begin():
            await session.execute(
                insert(export_jobs).values(
                    id="j1",
                    name="uji",
                    format="csv",
                    status=jobs.RUNNING,
                    rows_written=0,
                    rows_total=jobs.PROGRESS_EVERY * 2 + 1,
                    requested_by="x",
                    requested_role="verifikator",
                    wilayah="13.71",
                    permission=Permission.READ_HOUSEHOLD.name,
                    created_at=utcnow(),
                )
            )
        path = settings.exports_path / "j1.csv"
        settings.exports_path.mkdir(parents=True)
        task = asyncio.create_task(
            jobs.run_export_job(
                runtime.sessions, export_jobs, "j1", path, "csv", (Column("n", "N", "number"),), rows(), sheet="uji"
            )
        )

        async def job() -> dict[str, Any]:
            async with runtime.sessions() as session:
                return dict(
                    (await session.execute(select(export_jobs).where(export_jobs.c.id == "j1"))).mappings().one()
                )

        running_job = await wait_for(job, lambda j: j["rows_written"] == jobs.PROGRESS_EVERY * 2, timeout=30)
        assert running_job["status"] == jobs.RUNNING
        assert not path.exists()  # the file appears whole or not at all
        gate.set()
        await task
        finished = await job()
        assert finished["status"] == jobs.SUCCEEDED
        assert finished["rows_written"] == finished["rows_total"] == jobs.PROGRESS_EVERY * 2 + 1
        assert path.read_bytes().decode("utf-8-sig").count("\r\n") == jobs.PROGRESS_EVERY * 2 + 2
