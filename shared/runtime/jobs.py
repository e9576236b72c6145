"""The jobs every service runs, and `GET /ops/jobs`: declared jobs, their last run and the recent runs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.audit.chain import AuditLog
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.db.messaging import MessagingTables
from shared.http.security import require
from shared.observability.metrics import RELAY_LAG, RELAY_LAG_SECONDS
from shared.runtime.scheduler import Job, JobContext, JobRun, is_due


async def outbox_lag(
    sessions: async_sessionmaker[AsyncSession], outbox: Table, *, service: str, now: datetime
) -> tuple[int, int]:
    """Unpublished outbox rows and the age in seconds of the oldest one; also set as gauges."""
    async with sessions() as session:
        count, oldest = (
            await session.execute(
                select(func.count(), func.min(outbox.c.recorded_at)).where(outbox.c.published_at.is_(None))
            )
        ).one()
    age = 0
    if oldest is not None:
        oldest_utc = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
        age = max(0, int((now - oldest_utc).total_seconds()))
    RELAY_LAG.labels(service).set(count)
    RELAY_LAG_SECONDS.labels(service).set(age)
    return int(count), age


def outbox_health_job(tables: MessagingTables) -> Job:
    """Every minute: unpublished outbox rows, the oldest one's age, unreplayed dead letters (counts and gauges)."""

    async def run(ctx: JobContext) -> Mapping[str, int]:
        service = ctx.settings.service_name
        count, age = await outbox_lag(ctx.sessions, tables.outbox, service=service, now=ctx.now)
        d = tables.dead_letter
        async with ctx.sessions() as session:
            dead = (
                await session.execute(select(func.count()).select_from(d).where(d.c.replayed_at.is_(None)))
            ).scalar_one()
        return {"unpublished": count, "oldest_unpublished_seconds": age, "dead_letters": int(dead)}

    return Job("outbox-health", timedelta(minutes=1), run, "unpublished events, their age, unreplayed dead letters")


def audit_checkpoint_job(audit: AuditLog) -> Job:
    """Hourly: sign a checkpoint of the audit chain when entries were added since the last one.

    Checkpoints are also written every `audit_checkpoint_every` entries; this one bounds how long a quiet
    service's newest entries stay unanchored."""

    async def run(ctx: JobContext) -> Mapping[str, int]:
        checkpoint = await audit.write_checkpoint(ctx.sessions)
        return {"signed": int(checkpoint is not None), "seq": checkpoint.seq if checkpoint is not None else 0}

    return Job("audit-checkpoint", timedelta(hours=1), run, "sign a checkpoint of new audit entries")


class JobOut(BaseModel):
    """A declared job, its last run and whether it is due."""

    name: str
    description: str
    every_seconds: int
    last_run: JobRun | None
    due: bool


class JobsPage(BaseModel):
    """Declared jobs and the latest runs, newest first."""

    jobs: list[JobOut]
    runs_total: int
    runs: list[JobRun]


Operator = Annotated[Principal, Depends(require(Permission.OPERATE))]


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
                    last_run=last,
                    due=is_due(declared, last, now),
                )
            )
        runs, total = await scheduler.recent_runs(job=job, limit=limit)
        return JobsPage(jobs=jobs, runs_total=total, runs=runs)

    return router
