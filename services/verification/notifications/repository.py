"""Every query of the notifications feature."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, String, and_, cast, exists, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification.groundchecks.models import ground_check
from services.verification.notifications.models import notification_contact, notification_delivery
from shared.db.dialect import insert_for

c = notification_contact.c
d = notification_delivery.c


async def upsert_contact(session: AsyncSession, values: Mapping[str, Any]) -> None:
    """Create or replace a recipient's contact."""
    stmt = insert_for(session, notification_contact).values(**values)
    changed = {k: stmt.excluded[k] for k in values if k != "recipient_id"}
    await session.execute(stmt.on_conflict_do_update(index_elements=["recipient_id"], set_=changed))


async def get_contact(session: AsyncSession, recipient_id: str) -> RowMapping | None:
    """A recipient's contact, or None."""
    row = (await session.execute(select(notification_contact).where(c.recipient_id == recipient_id))).first()
    return row._mapping if row is not None else None


async def enqueue(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> int:
    """Queue deliveries; a (event, recipient, channel, template) already queued is kept as it is."""
    if not rows:
        return 0
    stmt = insert_for(session, notification_delivery).on_conflict_do_nothing(
        index_elements=["event_id", "recipient_id", "channel", "template"]
    )
    result = await session.execute(stmt, list(rows))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def due_deliveries(session: AsyncSession, *, now: datetime, limit: int) -> list[RowMapping]:
    """Pending deliveries whose time has come, oldest first, with their recipient's current contact."""
    query = (
        select(notification_delivery, c.phone, c.email, c.opted_out)
        .select_from(notification_delivery.outerjoin(notification_contact, c.recipient_id == d.recipient_id))
        .where(d.status == "pending", d.next_attempt_at <= now)
        .order_by(d.next_attempt_at, d.id)
        .limit(limit)
    )
    return [r._mapping for r in (await session.execute(query)).all()]


async def update_delivery(session: AsyncSession, delivery_id: int, values: Mapping[str, Any]) -> None:
    """Record the outcome of an attempt (only on a row still pending: a stale worker changes nothing)."""
    await session.execute(
        update(notification_delivery).where(d.id == delivery_id, d.status == "pending").values(**values)
    )


async def list_deliveries(
    session: AsyncSession, *, recipient_id: str | None, status: str | None, limit: int
) -> list[RowMapping]:
    """Deliveries, newest first, optionally of one recipient and/or in one status."""
    query = select(notification_delivery).order_by(d.id.desc()).limit(limit)
    if recipient_id is not None:
        query = query.where(d.recipient_id == recipient_id)
    if status is not None:
        query = query.where(d.status == status)
    return [r._mapping for r in (await session.execute(query)).all()]


async def retry_dead(session: AsyncSession, *, delivery_id: int | None, now: datetime) -> int:
    """Put dead deliveries (one, or all) back in the queue with a fresh attempt count."""
    stmt = update(notification_delivery).where(d.status == "dead")
    if delivery_id is not None:
        stmt = stmt.where(d.id == delivery_id)
    result = await session.execute(stmt.values(status="pending", attempts=0, next_attempt_at=now, last_error=None))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def visit_event_id(check_id: Any, officer: Any) -> Any:
    """The delivery key of a planned visit: the check and the officer it went to (a reassignment is news)."""
    return literal("ground-check:") + cast(check_id, String) + literal(":") + officer


async def planned_visits_to_announce(session: AsyncSession, *, limit: int) -> list[RowMapping]:
    """Assigned ground checks of families with a contact (not opted out) not yet told about the visit."""
    g = ground_check.c
    key = visit_event_id(g.id, g.assigned_to)
    told = exists().where(and_(d.event_id == key, d.recipient_id == g.household_id, d.template == "visit_planned"))
    query = (
        select(g.id, g.household_id, g.assigned_to, g.assigned_role, g.due_at, key.label("event_id"))
        .join(notification_contact, c.recipient_id == g.household_id)
        .where(g.status == "assigned", c.opted_out.is_(False), ~told)
        .order_by(g.id)
        .limit(limit)
    )
    return [r._mapping for r in (await session.execute(query)).all()]
