"""The jobs every service runs, and `GET /ops/jobs`: declared jobs, their last run and the recent runs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import func, select

from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.db.messaging import MessagingTables
from shared.http.security import require
from shared.observability.metrics import RELAY_LAG, RELAY_LAG_SECONDS
from shared.runtime.scheduler import Job, JobContext, JobRun, is_due


def outbox_health_job(tables: MessagingTables) -> Job:
    """Every minute: unpublished outbox rows, the oldest one's age, unreplayed dead letters (counts and gauges)."""
    from datetime import timedelta

    async def run(ctx: JobContext) -> Mapping[str, int]:
        o, d = tables.outbox, tables.dead_letter
        async with ctx.sessions() as session:
            count, oldest = (
                await session.execute(select(func.count(), func.min(o.c.recorded_at)).where(o.c.published_at.is_(None)))
            ).one()
            dead = (
                await session.execute(select(func.count()).select_from(d).where(d.c.replayed_at.is_(None)))
            ).scalar_one()
        age = 0
        if oldest is not None:
            oldest_utc = oldest if oldest.tzinfo else oldest.replace(tzinfo=ctx.now.tzinfo)
            age = max(0, int((ctx.now - oldest_utc).total_seconds()))
        RELAY_LAG.labels(ctx.settings.service_name).set(count)
        RELAY_LAG_SECONDS.labels(ctx.settings.service_name).set(age)
        return {"unpublished": int(count), "oldest_unpublished_seconds": age, "dead_letters": int(dead)}

    return Job("outbox-health", timedelta(minutes=1), run, "unpublished events, their age, unreplayed dead letters")


class JobRunOut(BaseModel):
    """One run of a job."""

    id: int
    job: str
    trigger: str
    runner: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, int]
    error: str | None


class JobOut(BaseModel):
    """A declared job, its last run and whether it is due."""

    name: str
    description: str
    every_seconds: int
    last_run: JobRunOut | None
    due: bool


class JobsPage(BaseModel):
    """Declared jobs and the latest runs, newest first."""

    jobs: list[JobOut]
    runs_total: int
    runs: list[JobRunOut]


Operator = Annotated[Principal, Depends(require(Permission.OPERATE))]


def _out(run: JobRun | None) -> JobRunOut | None:
    return JobRunOut(**run.__dict__) if run is not None else None


def jobs_router() -> APIRouter:
    """GET /ops/jobs (role system)."""
    router = APIRouter(tags=["ops"])

    @router.get("/ops/jobs", response_model=JobsPage, summary="Scheduled jobs and their recent runs")
    async def list_jobs(
        request: Request,
        _principal: Operator,
        job: str | None = Query(default=None, max_length=100, pattern=r"^[a-z0-9-]+$"),
        limit: int = Query(default=50, ge=1, le=500),
    ) -> JobsPage:
        """Each job with its interval, last run and whether it is due; then the latest runs."""
        scheduler: Any = request.app.state.runtime.scheduler
        now = scheduler.clock()
        jobs = []
        for declared in scheduler.jobs.values():
            last = await scheduler.last_run(declared.name)
            jobs.append(
                JobOut(
                    name=declared.name,
                    description=declared.description,
                    every_seconds=int(declared.every.total_seconds()),
                    last_run=_out(last),
                    due=is_due(declared, last, now),
                )
            )
        runs, total = await scheduler.recent_runs(job=job, limit=limit)
        return JobsPage(jobs=jobs, runs_total=total, runs=[r for r in (_out(x) for x in runs) if r is not None])

    return router
