"""Queries of the TKSK work report: counts per officer, outcomes and campaign progress in one kecamatan."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification.campaigns.models import campaign
from services.verification.groundchecks.models import OPEN_STATES, ground_check

c = ground_check.c


async def counts_per_officer(
    session: AsyncSession, where: list[Any], *, start: datetime, end: datetime, cutoff: datetime
) -> dict[str | None, dict[str, int]]:
    """Per officer: checks assigned (created in the period), visits submitted and their outcomes in the period,
    and checks still open past their due date at `cutoff`."""
    out: dict[str | None, dict[str, int]] = {}

    def bump(officer: str | None, key: str, n: int) -> None:
        slot = out.setdefault(officer, {"assigned": 0, "visited": 0, "layak": 0, "tidak_layak": 0, "overdue": 0})
        slot[key] += int(n)

    created = and_(c.created_at >= start, c.created_at < end)
    for officer, n in await session.execute(
        select(c.assigned_to, func.count()).where(*where, created).group_by(c.assigned_to)
    ):
        bump(officer, "assigned", n)
    visited = and_(c.visited_at >= start, c.visited_at < end)
    for officer, outcome, n in await session.execute(
        select(c.submitted_by, c.outcome, func.count()).where(*where, visited).group_by(c.submitted_by, c.outcome)
    ):
        bump(officer, "visited", n)
        if outcome in ("layak", "tidak_layak"):
            bump(officer, outcome, n)
    late = and_(c.status.in_(OPEN_STATES), c.due_at < cutoff)
    for officer, n in await session.execute(
        select(c.assigned_to, func.count()).where(*where, late).group_by(c.assigned_to)
    ):
        bump(officer, "overdue", n)
    return out


async def outcomes(
    session: AsyncSession, where: list[Any], *, start: datetime, end: datetime
) -> list[tuple[str, str | None, int]]:
    """Visits of the period by outcome and reason."""
    stmt = (
        select(c.outcome, c.outcome_reason, func.count())
        .where(*where, c.visited_at >= start, c.visited_at < end, c.outcome.is_not(None))
        .group_by(c.outcome, c.outcome_reason)
        .order_by(c.outcome, c.outcome_reason)
    )
    return [(o, r, int(n)) for o, r, n in await session.execute(stmt)]


async def campaign_counts(session: AsyncSession, where: list[Any], *, end: datetime) -> list[tuple[int, str, str, int]]:
    """Checks of the campaigns opened before the period's end, by campaign and state."""
    stmt = (
        select(campaign.c.id, campaign.c.name, c.status, func.count())
        .select_from(ground_check.join(campaign, campaign.c.id == c.campaign_id))
        .where(*where, campaign.c.created_at < end)
        .group_by(campaign.c.id, campaign.c.name, c.status)
        .order_by(campaign.c.id, c.status)
    )
    return [(int(i), name, status, int(n)) for i, name, status, n in await session.execute(stmt)]


async def newest_change(session: AsyncSession, where: list[Any], *, end: datetime) -> datetime | None:
    """The newest update of a check the report covers (the document's date)."""
    stmt = select(func.max(c.updated_at)).where(*where, c.updated_at < end)
    newest: datetime | None = (await session.execute(stmt)).scalar_one_or_none()
    return newest
