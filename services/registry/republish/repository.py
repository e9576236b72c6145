"""Queries of a household republish, set-based: the next batch of a scope's families, their version bump, their
history rows and their events are one statement each (UPDATE, INSERT … SELECT): no family passes through Python."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, String, func, insert, literal, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.database import messaging
from services.registry.families.changes import OUTBOX, Actor
from services.registry.families.models import family, family_history
from services.registry.imports.events import household_sql
from services.registry.imports.sql import Dialect
from services.registry.republish.rules import ACTION, Scope, change_of
from shared.context import current_correlation_id, request_id_var
from shared.db.expressions import one_of, within
from shared.events.household import HouseholdEventType
from shared.events.topics import REGISTRY_HOUSEHOLD

outbox = messaging.outbox


def _in_scope(session: AsyncSession, scope: Scope) -> list[Any]:
    where = [within(family.c.kelurahan_code, scope.wilayah)]
    if scope.family_ids is not None:
        where.append(one_of(session, family.c.id, scope.family_ids))
    return where


async def found_ids(session: AsyncSession, scope: Scope) -> set[str]:
    """The ids of the scope's families (for a scope given as a bounded list of ids)."""
    return set((await session.execute(select(family.c.id).where(*_in_scope(session, scope)))).scalars())


async def batch_end(session: AsyncSession, scope: Scope, *, after: str | None, size: int) -> str | None:
    """The id of the last family of the next batch (the scope's `size` families after `after`, in id order); None
    when none is left. The batch is then a range of ids: nothing but its two ends is read into Python."""
    where = _in_scope(session, scope)
    if after is not None:
        where.append(family.c.id > after)
    ids = select(family.c.id).where(*where).order_by(family.c.id).limit(size).subquery("batch")
    end: str | None = (await session.execute(select(func.max(ids.c.id)))).scalar_one()
    return end


def in_batch(session: AsyncSession, scope: Scope, *, after: str | None, end: str) -> list[Any]:
    """The conditions on `family` of one batch: in the scope, id in (after, end]."""
    where = [*_in_scope(session, scope), family.c.id <= end]
    if after is not None:
        where.append(family.c.id > after)
    return where


async def bump_versions(session: AsyncSession, where: list[Any]) -> int:
    """Move each family of the batch one version on (its republished event's version) and lock it until the
    transaction ends; how many. `updated_at` stays: the family's data did not change."""
    result = await session.execute(update(family).where(*where).values(version=family.c.version + 1))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def last_history_id(session: AsyncSession) -> int:
    """The newest family_history id (0: none): the batch's rows come after it."""
    return int((await session.execute(select(func.coalesce(func.max(family_history.c.id), 0)))).scalar_one())


async def write_history(session: AsyncSession, where: list[Any], *, actor: Actor, now: datetime, reason: str) -> None:
    """One history row per family of the batch, at its new version (the version an ETag names has a row)."""
    await session.execute(
        insert(family_history).from_select(
            ["family_id", "member_id", "version", "action", "actor", "actor_role", "at", "reason", "request_id"],
            select(
                family.c.id,
                null(),
                family.c.version,
                literal(ACTION, String),
                literal(actor.subject, String),
                literal(actor.role, String),
                literal(now, family_history.c.at.type),
                literal(reason, String),
                literal(request_id_var.get(), String),
            )
            .where(*where)
            .order_by(family.c.id),
        )
    )


async def emit(session: AsyncSession, where: list[Any], *, run_id: str, label: str, now: datetime, today: date) -> int:
    """One household.republished event per family of the batch, its whole state at its new version, built by the
    import's payload SQL (`imports.events.household_sql`) and written by the outbox's bulk insert; how many.

    `occurred_at` is the family's `updated_at`, when the state it carries came about (a consumer dating a status
    by it, e.g. disbursement's `inactive_since` after a rebuild, gets the state's time, not the republish's)."""
    d = Dialect(session)
    # Not correlated with the outer `family`: the subqueries select their own batch of ids.
    batch = select(family.c.id).where(*where).correlate(None)
    payload = household_sql(session, today, batch)
    change = d.obj_text(*[x for kv in change_of(run_id).items() for x in kv])
    return await OUTBOX.add_selected(
        session,
        select(
            d.job_uuid(run_id, func.row_number().over(order_by=family.c.id), label).label("event_id"),
            literal(REGISTRY_HOUSEHOLD, String).label("topic"),
            literal(HouseholdEventType.REPUBLISHED.value, String).label("event_type"),
            literal(1, Integer).label("schema_version"),
            family.c.id.label("subject"),
            family.c.version.label("aggregate_version"),
            family.c.updated_at.label("occurred_at"),
            literal(now, outbox.c.recorded_at.type).label("recorded_at"),
            literal(current_correlation_id() or f"republish-{run_id}", String).label("correlation_id"),
            payload.data(change).label("data"),
        )
        .select_from(payload.join(family, family.c.id))
        .where(*where)
        .order_by(family.c.id),
    )
