"""Republish the current household state of a scope's families, batch by batch, each batch in its own transaction:
versions bumped, history rows, household.republished events and an audit entry covering the batch, together."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.domain.identifiers import today_wib
from services.registry.families.changes import Actor
from services.registry.families.models import family_history
from services.registry.imports.staging import lock_imports
from services.registry.republish import repository
from services.registry.republish.rules import (
    DEFAULT_BATCH,
    Scope,
    batch_label,
    check_batch_size,
    covered_pattern,
    history_reason,
    missing_ids,
)
from shared.audit.chain import AuditLog
from shared.audit.coverage import reference_rows
from shared.context import request_id_var
from shared.events.envelope import utcnow

RECORD_TYPE = "household_republish"


@dataclass
class RepublishRun:
    """What a run did: its id, scope, how many families it republished in how many batches, and the requested ids
    it did not find in the scope."""

    id: str
    wilayah: str
    families: int = 0
    batches: int = 0
    missing_family_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Batch:
    run_id: str
    number: int
    actor: Actor
    now: datetime
    today: date


async def republish_households(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    scope: Scope,
    audit: AuditLog,
    batch_size: int = DEFAULT_BATCH,
    today: date | None = None,
    on_batch: Callable[[RepublishRun], None] | None = None,
) -> RepublishRun:
    """Republish every family of `scope`, `batch_size` at a time in id order, each batch committed on its own (row
    locks held for one batch only, memory flat); `on_batch` hears of each. A run cut short leaves whole batches
    behind and can simply run again: a second republish only sends the same state at a newer version."""
    check_batch_size(batch_size)
    run = RepublishRun(id=str(uuid.uuid4()), wilayah=scope.wilayah)
    if scope.family_ids is not None:
        async with sessions() as session:
            run.missing_family_ids = missing_ids(scope.family_ids, await repository.found_ids(session, scope))
    after: str | None = None
    while True:
        async with sessions() as session, session.begin():
            # Never between an import's statements: an import numbers its events from the versions it read.
            await lock_imports(session)
            end = await repository.batch_end(session, scope, after=after, size=batch_size)
            if end is None:
                break
            batch = _Batch(run.id, run.batches + 1, actor, utcnow(), today or today_wib())
            run.families += await _republish_batch(session, batch, scope=scope, after=after, end=end, audit=audit)
            run.batches = batch.number
        after = end
        if on_batch is not None:
            on_batch(run)
    if run.batches and audit.anchor is not None:
        await audit.checkpoint_quietly(sessions)  # a bulk change is anchored as soon as it lands, as an import
    return run


async def _republish_batch(
    session: AsyncSession, batch: _Batch, *, scope: Scope, after: str | None, end: str, audit: AuditLog
) -> int:
    where = repository.in_batch(session, scope, after=after, end=end)
    label = batch_label(batch.run_id, batch.number)
    # The version first: history and events read each family's new one in the same transaction, under its lock.
    families = await repository.bump_versions(session, where)
    first_id = await repository.last_history_id(session) + 1
    await repository.write_history(session, where, actor=batch.actor, now=batch.now, reason=history_reason(label))
    events = await repository.emit(session, where, run_id=batch.run_id, label=label, now=batch.now, today=batch.today)
    covered = await reference_rows(
        session,
        family_history,
        column="reason",
        pattern=covered_pattern(label),
        first_id=first_id,
        last_id=await repository.last_history_id(session),
    )
    await audit.record(
        session,
        actor=batch.actor.subject,
        role=batch.actor.role,
        action="republish households",
        record_type=RECORD_TYPE,
        record_id=batch.run_id,
        after={
            **scope.describe(),
            "batch": batch.number,
            "families": families,
            "events": events,
            "covers": covered.as_json(),
        },
        request_id=request_id_var.get(),
    )
    return families
