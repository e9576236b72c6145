"""Verification's periodic jobs (run by the shared scheduler; see `tepat jobs list`).

Adding one is one `Job(...)` in `JOBS`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from prometheus_client import Gauge

from services.verification.complaints.repository import count_overdue as complaints_overdue
from services.verification.complaints.service import escalate_overdue
from services.verification.groundchecks.repository import count_overdue
from services.verification.notifications.service import announce_planned_visits, build_providers, send_due
from services.verification.objections.service import lapse_overdue
from services.verification.settings import settings_of
from shared.runtime.scheduler import Job, JobContext

GROUND_CHECKS_OVERDUE = Gauge("tepat_ground_checks_overdue", "Open ground checks past their due date")
COMPLAINTS_OVERDUE = Gauge("tepat_complaints_overdue", "Open complaints (pengaduan) past their SLA")


async def lapse_objections(ctx: JobContext) -> Mapping[str, int]:
    """Every sanggah past its due date lapses (after downtime too: everything overdue by `now`)."""
    async with ctx.sessions() as session, session.begin():
        return {"lapsed": await lapse_overdue(session, outbox=ctx.outbox, now=ctx.now)}


async def overdue_ground_checks(ctx: JobContext) -> Mapping[str, int]:
    """How many open ground checks are past due (and unassigned), for the dashboard metric and the run log."""
    async with ctx.sessions() as session:
        overdue, unassigned = await count_overdue(session, now=ctx.now)
    GROUND_CHECKS_OVERDUE.set(overdue)
    return {"overdue": overdue, "overdue_unassigned": unassigned}


async def send_notifications(ctx: JobContext) -> Mapping[str, int]:
    """Queue 'visit planned' for newly assigned checks, then send every notification due (none in quiet hours)."""
    settings = settings_of(ctx)
    async with ctx.sessions() as session, session.begin():
        announced = await announce_planned_visits(session, settings=settings, limit=settings.notify_batch_size)
    counts = await send_due(ctx.sessions, settings=settings, providers=build_providers(settings), now=ctx.now)
    return {"visits_announced": announced, **counts}


async def escalate_complaints(ctx: JobContext) -> Mapping[str, int]:
    """Every open complaint past its SLA is escalated (a week later once more), with a complaint.escalated event."""
    async with ctx.sessions() as session, session.begin():
        escalated = await escalate_overdue(session, outbox=ctx.outbox, now=ctx.now)
        overdue = await complaints_overdue(session, now=ctx.now)
    COMPLAINTS_OVERDUE.set(overdue)
    return {"escalated": escalated, "overdue": overdue}


JOBS = (
    Job("objections-lapse", timedelta(hours=1), lapse_objections, "lapse sanggah past their 14-day due date"),
    Job("ground-checks-overdue", timedelta(hours=1), overdue_ground_checks, "count open ground checks past due"),
    Job("notifications-send", timedelta(seconds=30), send_notifications, "send due notifications, with retries"),
    Job("complaints-escalate", timedelta(hours=1), escalate_complaints, "escalate complaints past their SLA"),
)
