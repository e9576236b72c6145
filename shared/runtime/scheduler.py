"""Periodic jobs of a service (lapse sanggah, overdue ground checks, outbox health, …), declared by the service
as `Job`s and run by every instance's scheduler, with one active runner per job across instances.

Each run is recorded in the service's `job_run` table. A job is due when its last recorded run started at least
`every` ago (a failed run is retried after at most a minute), so a missed run catches up once, on the next
tick, and jobs must be safe to run twice (they act on what is due *now*, e.g. every sanggah past its due date).
On PostgreSQL a session advisory lock per job decides who runs it; the due check is made under that lock, so
two instances never both run the same job for the same period. On SQLite the single process is the runner.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.events.envelope import utcnow
from shared.observability.health import TaskHealth
from shared.observability.metrics import JOB_LAST_SUCCESS, JOB_RUNS, JOB_SECONDS
from shared.outbox.writer import OutboxWriter
from shared.runtime.retry import Backoff
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

FAILED_RETRY = timedelta(minutes=1)


@dataclass(frozen=True)
class JobContext:
    """What a job gets: the service's sessions and outbox, its settings, and the scheduler's idea of now."""

    sessions: async_sessionmaker[AsyncSession]
    outbox: OutboxWriter
    settings: ServiceSettings
    now: datetime


JobFunction = Callable[[JobContext], Awaitable[Mapping[str, int]]]


@dataclass(frozen=True)
class Job:
    """A periodic job: its name, how often, and the function doing one run (returns counts, e.g. lapsed=3)."""

    name: str
    every: timedelta
    run: JobFunction
    description: str = ""


@dataclass(frozen=True)
class JobRun:
    """One recorded run."""

    id: int
    job: str
    trigger: str
    runner: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, int]
    error: str | None


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _to_run(row: Any) -> JobRun:
    return JobRun(
        id=row.id,
        job=row.job,
        trigger=row.trigger,
        runner=row.runner,
        status=row.status,
        started_at=_utc(row.started_at),
        finished_at=_utc(row.finished_at) if row.finished_at is not None else None,
        counts=json.loads(row.counts) if row.counts else {},
        error=row.error,
    )


def is_due(job: Job, last: JobRun | None, now: datetime) -> bool:
    """Whether `job` should run at `now` given its last recorded run."""
    if last is None:
        return True
    wait = job.every if last.status != "failed" else min(job.every, FAILED_RETRY)
    return now >= last.started_at + wait


class Scheduler:
    """Runs a service's jobs when due; one runner per job across instances."""

    def __init__(
        self,
        *,
        service: str,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        outbox: OutboxWriter,
        settings: ServiceSettings,
        table: Table,
        jobs: Sequence[Job],
        clock: Callable[[], datetime] = utcnow,
        tick_s: float = 30.0,
    ) -> None:
        self.service = service
        self.engine = engine
        self.sessions = sessions
        self.outbox = outbox
        self.settings = settings
        self.table = table
        self.jobs = {j.name: j for j in jobs}
        self.clock = clock
        self.tick_s = tick_s
        self.runner = f"{socket.gethostname()}:{os.getpid()}"
        self.health = TaskHealth(service, "scheduler")
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """End the loop after the job in flight."""
        self._stopping.set()

    async def run(self) -> None:
        """Tick until stopped; a database outage is waited out."""
        backoff = Backoff(first=1.0, cap=60.0)
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception as exc:
                self.health.failed(exc)
                log.warning("scheduler of %s cannot run its jobs (%s); retrying", self.service, exc)
                await backoff.wait(self._stopping)
                continue
            self.health.ok()
            backoff.reset()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.tick_s)
        self.health.stopped()

    async def tick(self) -> list[JobRun]:
        """Run every due job once (those another instance is running are skipped); returns the runs made."""
        runs = []
        for job in self.jobs.values():
            run = await self.run_job(job.name, force=False)
            if run is not None:
                runs.append(run)
        return runs

    async def run_job(self, name: str, *, force: bool, trigger: str = "schedule") -> JobRun | None:
        """Run one job if due (or now, if forced) and this instance holds its lock; None when it did not run."""
        job = self.jobs[name]
        async with self._leadership(job) as leader:
            if not leader:
                return None
            now = self.clock()
            if not force and not is_due(job, await self.last_run(name), now):
                return None
            return await self._run(job, now, trigger)

    async def _run(self, job: Job, now: datetime, trigger: str) -> JobRun:
        t = self.table
        async with self.sessions() as session, session.begin():
            run_id = (
                await session.execute(
                    insert(t)
                    .values(job=job.name, trigger=trigger, runner=self.runner, status="running", started_at=now)
                    .returning(t.c.id)
                )
            ).scalar_one()
        started = time.perf_counter()
        counts: dict[str, int] = {}
        error = None
        try:
            counts = dict(await job.run(JobContext(self.sessions, self.outbox, self.settings, now)))
            status = "succeeded"
        except Exception as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"[:4000]
            log.exception("job %s of %s failed", job.name, self.service)
        elapsed = time.perf_counter() - started
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(t)
                .where(t.c.id == run_id)
                .values(
                    status=status,
                    finished_at=now + timedelta(seconds=elapsed),
                    counts=json.dumps(counts),
                    error=error,
                )
            )
        JOB_RUNS.labels(self.service, job.name, status).inc()
        JOB_SECONDS.labels(self.service, job.name).observe(elapsed)
        if status == "succeeded":
            JOB_LAST_SUCCESS.labels(self.service, job.name).set(time.time())
        # A run that found nothing to do stays out of the log (it is in job_run and the metrics).
        level = logging.INFO if status == "succeeded" and any(counts.values()) else logging.DEBUG
        if status == "succeeded":
            log.log(level, "job %s of %s: %s", job.name, self.service, counts)
        return JobRun(
            run_id, job.name, trigger, self.runner, status, now, now + timedelta(seconds=elapsed), counts, error
        )

    @contextlib.asynccontextmanager
    async def _leadership(self, job: Job) -> AsyncIterator[bool]:
        if self.engine.dialect.name != "postgresql":
            yield True
            return
        key = zlib.crc32(f"tepat-job-{self.service}-{job.name}".encode())
        async with self.engine.connect() as conn:
            raw: Any = (await conn.get_raw_connection()).driver_connection
            if not await raw.fetchval("SELECT pg_try_advisory_lock($1)", key):
                yield False
                return
            try:
                yield True
            finally:
                with contextlib.suppress(Exception):
                    await raw.fetchval("SELECT pg_advisory_unlock($1)", key)

    async def last_run(self, name: str) -> JobRun | None:
        """The latest recorded run of a job."""
        t = self.table
        async with self.sessions() as session:
            row = (
                await session.execute(select(t).where(t.c.job == name).order_by(t.c.started_at.desc(), t.c.id.desc()))
            ).first()
        return _to_run(row) if row is not None else None

    async def recent_runs(self, *, job: str | None = None, limit: int = 50) -> tuple[list[JobRun], int]:
        """The latest runs, newest first, and how many there are in all."""
        t = self.table
        where = [t.c.job == job] if job else []
        async with self.sessions() as session:
            total = (await session.execute(select(func.count()).select_from(t).where(*where))).scalar_one()
            rows = (await session.execute(select(t).where(*where).order_by(t.c.id.desc()).limit(limit))).all()
        return [_to_run(r) for r in rows], int(total)
