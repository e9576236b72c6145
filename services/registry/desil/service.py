"""A family's desil history, and recording BPS desil rankings: append a snapshot, move the family's current desil
when it is the newest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.desil.models import desil_snapshot
from services.registry.desil.repository import snapshots_of
from services.registry.desil.rules import desil_since_after, valid_period
from services.registry.desil.schemas import DesilHistory, DesilSnapshotOut
from services.registry.families.changes import SYSTEM_ACTOR, Actor, Change, ChangeSet, finish
from services.registry.families.models import family
from services.registry.families.repository import get_family_row
from shared.auth.principal import Principal
from shared.db.dialect import insert_for
from shared.events.envelope import utcnow
from shared.events.household import HouseholdEventType


async def record_desil(
    session: AsyncSession,
    family_id: str,
    period: str,
    desil: int,
    source: str,
    batch: str | None,
    *,
    actor: Actor = SYSTEM_ACTOR,
    now: datetime | None = None,
) -> bool:
    """Append a snapshot (a second one for the same period is ignored); update the family's current desil when
    the period is the newest; emit household.desil_changed when the value or the period changed. True if a
    snapshot was added."""
    if not valid_period(period):
        raise ValueError(f"period must look like 2026-Q1, got {period!r}")
    if not 1 <= desil <= 10:
        raise ValueError(f"desil must be 1-10, got {desil}")
    now = now or utcnow()
    added = (
        await session.execute(
            insert_for(session, desil_snapshot)
            .values(
                family_id=family_id, period=period, desil=desil, source=source, import_batch_id=batch, recorded_at=now
            )
            .on_conflict_do_nothing(index_elements=["family_id", "period"])
            .returning(desil_snapshot.c.id)
        )
    ).first() is not None
    if not added:
        return False
    row = (
        await session.execute(
            select(family.c.desil, family.c.desil_period, family.c.desil_since)
            .where(family.c.id == family_id)
            .with_for_update()
        )
    ).first()
    if row is None:
        raise LookupError(f"no family {family_id}")
    newest, since = desil_since_after(
        current=row.desil, current_period=row.desil_period, since=row.desil_since, new=desil, period=period
    )
    if not newest:
        return True
    await session.execute(
        update(family).where(family.c.id == family_id).values(desil=desil, desil_period=period, desil_since=since)
    )
    # The period is carried in the household state as well: a new period with the same desil is a change too.
    if row.desil != desil or row.desil_period != period:
        changes = ChangeSet()
        changes.add(
            family_id,
            Change(
                HouseholdEventType.DESIL_CHANGED,
                "desil_changed",
                change={"from": row.desil, "to": desil, "period": period, "source": source},
                before={"desil": row.desil, "desil_period": row.desil_period},
                after={"desil": desil, "desil_period": period, "import_batch_id": batch},
            ),
        )
        await finish(session, changes, actor, now=now)
    return True


async def desil_history(session: AsyncSession, *, principal: Principal, family_id: str) -> DesilHistory:
    """The family's current desil and every snapshot, newest period first (404 outside the caller's scope)."""
    row = await get_family_row(session, principal, family_id)
    return DesilHistory(
        family_id=family_id,
        desil=row["desil"],
        desil_period=row["desil_period"],
        desil_since=row["desil_since"],
        snapshots=[DesilSnapshotOut.model_validate(r) for r in await snapshots_of(session, family_id)],
    )
