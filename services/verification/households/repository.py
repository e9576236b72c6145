"""Queries of the household read model."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification.households.models import household, household_flag, household_member_digest, programme_band
from services.verification.households.rules import ProgrammeBand
from shared.events.envelope import EventEnvelope, utcnow
from shared.events.household import HouseholdState
from shared.events.programme import ProgrammeRulePublished


async def upsert_household(session: AsyncSession, state: HouseholdState, envelope: EventEnvelope) -> bool:
    """Insert or update the family from an event; a stale version changes nothing. True if applied."""
    table = household
    values = {
        "household_id": state.household_id,
        "kecamatan_code": state.kecamatan_code,
        "kelurahan_code": state.kelurahan_code,
        "data_status": state.data_status.value,
        "status_reason": state.status_reason,
        "desil": state.desil,
        "desil_period": state.desil_period,
        "open_flags": ",".join(sorted(state.open_flags)),
        "version": envelope.aggregate_version,
        "updated_at": utcnow(),
        "last_event_type": envelope.event_type,
        "last_event_id": str(envelope.event_id),
    }
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    base = insert(table).values(values)
    stmt = base.on_conflict_do_update(
        index_elements=["household_id"],
        set_={k: base.excluded[k] for k in values if k != "household_id"},
        # Events of one family may arrive late or twice (replay, relay resend): only newer versions win.
        where=table.c.version < base.excluded.version,
    ).returning(table.c.household_id)
    return (await session.execute(stmt)).first() is not None


async def previous_state(session: AsyncSession, household_id: str) -> tuple[list[str], int | None] | None:
    """(open flag kinds, desil) the read model held before this event, locked until the handler commits."""
    table = household
    stmt = select(table.c.open_flags, table.c.desil).where(table.c.household_id == household_id)
    if session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    return [k for k in row.open_flags.split(",") if k], row.desil


async def replace_flags(session: AsyncSession, household_id: str, kinds: Sequence[str]) -> None:
    """Make household_flag hold exactly these open flag kinds of the family."""
    await session.execute(delete(household_flag).where(household_flag.c.household_id == household_id))
    if kinds:
        await session.execute(
            insert(household_flag), [{"household_id": household_id, "kind": k} for k in sorted(set(kinds))]
        )


async def replace_member_digests(session: AsyncSession, household_id: str, digests: Sequence[str]) -> None:
    """Make household_member_digest hold exactly these member NIK digests of the family."""
    await session.execute(delete(household_member_digest).where(household_member_digest.c.household_id == household_id))
    if digests:
        await session.execute(
            insert(household_member_digest), [{"household_id": household_id, "digest": d} for d in sorted(set(digests))]
        )


async def families_of_member(session: AsyncSession, digest: str) -> set[str]:
    """The families whose members include the person with this NIK digest."""
    c = household_member_digest.c
    return set((await session.execute(select(c.household_id).where(c.digest == digest))).scalars())


async def clear_read_model(session: AsyncSession) -> None:
    """Forget every family (before a rebuild by replay)."""
    await session.execute(delete(household_flag))
    await session.execute(delete(household_member_digest))
    await session.execute(delete(household))


async def upsert_programme_band(session: AsyncSession, rule: ProgrammeRulePublished) -> None:
    """Record a published rule version's band (a redelivered event writes the same values again)."""
    values = {**rule.model_dump(), "updated_at": utcnow()}
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    base = insert(programme_band).values(values)
    keys = {"programme_code", "version"}
    await session.execute(
        base.on_conflict_do_update(
            index_elements=sorted(keys), set_={k: base.excluded[k] for k in values if k not in keys}
        )
    )


async def programme_bands(session: AsyncSession) -> list[ProgrammeBand]:
    """Every published rule version's band (one row per programme version: a handful)."""
    c = programme_band.c
    rows = await session.execute(
        select(c.programme_code, c.version, c.desil_min, c.desil_max, c.effective_from, c.effective_to)
    )
    return [ProgrammeBand(*r) for r in rows]
