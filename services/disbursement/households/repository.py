"""Queries of the household_status read model."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.households.models import COMPOSITION, household_status
from services.disbursement.households.rules import HouseholdInputs
from shared.db.dialect import insert_for
from shared.events.envelope import utcnow
from shared.events.household import HouseholdState, VerificationOutcome

t = household_status


def flags_text(flags: Sequence[str]) -> str:
    """Flag kinds in the ',a,b,' form the SQL membership test expects ('' for none)."""
    kinds = sorted({f for f in flags if f})
    return "," + ",".join(kinds) + "," if kinds else ""


def flags_of(text: str | None) -> frozenset[str]:
    """The flag kinds of a stored ',a,b,' text."""
    return frozenset(k for k in (text or "").split(",") if k)


async def upsert_household(
    session: AsyncSession, state: HouseholdState, *, version: int, occurred_at: datetime
) -> bool:
    """Apply a registry event; an older or equal version changes nothing. True if applied."""
    values = {
        "household_id": state.household_id,
        "kecamatan_code": state.kecamatan_code,
        "kelurahan_code": state.kelurahan_code,
        "data_status": state.data_status.value,
        "status_reason": state.status_reason,
        "desil": state.desil,
        "desil_period": state.desil_period,
        "recipient_member_id": state.recipient_member_id,
        "open_flags": flags_text(state.open_flags),
        "confirmed_flags": flags_text(state.confirmed_flags),
        **{name: getattr(state.composition, name) for name in COMPOSITION},
        "inactive_since": occurred_at.date() if state.data_status.value == "inactive" else None,
        "version": version,
        "updated_at": utcnow(),
    }
    base = insert_for(session, t).values(values)
    updates = {k: base.excluded[k] for k in values if k not in {"household_id", "inactive_since"}}
    # Keep the first day of an uninterrupted inactive spell: "paid after deactivation" is judged against it.
    updates["inactive_since"] = case(
        (base.excluded.data_status == "inactive", func.coalesce(t.c.inactive_since, base.excluded.inactive_since)),
        else_=None,
    )
    stmt = base.on_conflict_do_update(
        index_elements=["household_id"], set_=updates, where=t.c.version < base.excluded.version
    ).returning(t.c.household_id)
    return (await session.execute(stmt)).first() is not None


async def record_outcome(session: AsyncSession, outcome: VerificationOutcome) -> bool:
    """Apply an approved ground check's outcome; only a newer verified_at wins. True if applied."""
    values = {
        "household_id": outcome.household_id,
        "last_outcome": outcome.outcome,
        "last_outcome_reason": outcome.reason,
        "last_verified_at": outcome.verified_at,
        "updated_at": utcnow(),
    }
    base = insert_for(session, t).values(values)
    stmt = base.on_conflict_do_update(
        index_elements=["household_id"],
        set_={k: base.excluded[k] for k in values if k != "household_id"},
        where=or_(t.c.last_verified_at.is_(None), t.c.last_verified_at < base.excluded.last_verified_at),
    ).returning(t.c.household_id)
    return (await session.execute(stmt)).first() is not None


def inputs_from_row(row: RowMapping) -> HouseholdInputs:
    """A read-model row as the rule's input."""
    return HouseholdInputs(
        household_id=row["household_id"],
        kecamatan_code=row["kecamatan_code"],
        kelurahan_code=row["kelurahan_code"],
        data_status=row["data_status"],
        status_reason=row["status_reason"],
        desil=row["desil"],
        confirmed_flags=flags_of(row["confirmed_flags"]),
        open_flags=flags_of(row["open_flags"]),
        composition={name: int(row[name]) for name in COMPOSITION},
        last_outcome=row["last_outcome"],
        last_verified_at=row["last_verified_at"],
    )


async def get_household(session: AsyncSession, household_id: str) -> RowMapping | None:
    """One family of the read model."""
    return (await session.execute(select(t).where(t.c.household_id == household_id))).mappings().first()
