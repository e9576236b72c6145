"""Every query of complaints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification import guarded
from services.verification.complaints.models import complaint
from services.verification.complaints.rules import OPEN_STATES
from services.verification.objections.models import objection
from services.verification.objections.rules import PENDING_STATES
from services.verification.scope import within_scope
from shared.auth.principal import Principal

c = complaint.c


async def insert_complaint(session: AsyncSession, values: dict[str, Any]) -> dict[str, Any]:
    """Insert one complaint and return the row."""
    new_id = (await session.execute(insert(complaint).values(**values).returning(c.id))).scalar_one()
    row = await guarded.load(session, complaint, int(new_id))
    assert row is not None
    return row


async def get(session: AsyncSession, complaint_id: int) -> dict[str, Any] | None:
    """One complaint by id."""
    return await guarded.load(session, complaint, complaint_id)


async def set_links(session: AsyncSession, complaint_id: int, values: dict[str, Any]) -> None:
    """Record what an action made (no state change: the guarded move did that)."""
    await session.execute(update(complaint).where(c.id == complaint_id).values(**values))


async def pending_objection(session: AsyncSession, household_id: str) -> int | None:
    """The family's newest sanggah still being verified, if any (an inclusion complaint links to it)."""
    o = objection.c
    return (
        await session.execute(
            select(o.id)
            .where(o.household_id == household_id, o.status.in_(PENDING_STATES))
            .order_by(o.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def page(
    session: AsyncSession,
    *,
    principal: Principal,
    status: str | None,
    category: str | None,
    reference: str | None,
    overdue_at: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """A page of complaints in the caller's scope (oldest due first) and the total."""
    where: list[Any] = [within_scope(c.kelurahan_code, principal)]
    if status:
        where.append(c.status == status)
    if category:
        where.append(c.category == category)
    if reference:
        where.append(c.reference == reference.strip().upper())
    if overdue_at is not None:
        where += [c.status.in_(OPEN_STATES), c.due_at < overdue_at]
    total = (await session.execute(select(func.count()).select_from(complaint).where(*where))).scalar_one()
    rows = await session.execute(select(complaint).where(*where).order_by(c.due_at, c.id).limit(limit).offset(offset))
    return [dict(r._mapping) for r in rows], int(total)


async def summary(
    session: AsyncSession, *, principal: Principal, now: datetime, due_soon_at: datetime
) -> list[tuple[str, str, str, int]]:
    """(kecamatan, category, sla status, count) in the caller's scope, in one grouped query."""
    sla = case(
        (c.status.not_in(OPEN_STATES), literal("closed")),
        (c.due_at < now, literal("overdue")),
        (c.due_at <= due_soon_at, literal("due_soon")),
        else_=literal("on_time"),
    ).label("sla_status")
    rows = await session.execute(
        select(c.kecamatan_code, c.category, sla, func.count())
        .where(within_scope(c.kelurahan_code, principal))
        .group_by(c.kecamatan_code, c.category, sla)
        .order_by(c.kecamatan_code, c.category, sla)
    )
    return [(k, cat, s, int(n)) for k, cat, s, n in rows]


async def escalate(
    session: AsyncSession, *, level: int, overdue_before: datetime, now: datetime
) -> list[dict[str, Any]]:
    """Raise every open complaint due before `overdue_before` to `level` (if lower), in one UPDATE; the rows."""
    rows = await session.execute(
        update(complaint)
        .where(and_(c.status.in_(OPEN_STATES), c.due_at < overdue_before, c.escalation_level < level))
        .values(escalation_level=level, escalated_at=now, version=c.version + 1)
        .returning(*complaint.c)
    )
    return [dict(r._mapping) for r in rows]


async def count_overdue(session: AsyncSession, *, now: datetime) -> int:
    """Open complaints past their SLA (all of the service, for the metric)."""
    stmt = select(func.count()).select_from(complaint).where(c.status.in_(OPEN_STATES), c.due_at < now)
    return int((await session.execute(stmt)).scalar_one())
