"""Guarded state changes: UPDATE … WHERE id = :id AND status = :expected, the database as the referee."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.statemachine import IllegalTransition, StateMachine, advance, conflict


async def load(session: AsyncSession, table: Table, row_id: int) -> dict[str, Any] | None:
    """One row by id."""
    row = (await session.execute(select(table).where(table.c.id == row_id))).first()
    return dict(row._mapping) if row else None


async def move(
    session: AsyncSession,
    table: Table,
    machine: StateMachine,
    row: dict[str, Any],
    action: str,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Apply `action` to `row` if the table allows it and nobody moved the row meanwhile; else a 409 problem."""
    target = advance(machine, row["status"], action)
    stmt = (
        update(table)
        .where(table.c.id == row["id"], table.c.status == row["status"])
        .values(**(values or {}), status=target, version=table.c.version + 1)
        .returning(table.c.id)
    )
    if (await session.execute(stmt)).scalar_one_or_none() is None:
        current = await load(session, table, row["id"])
        state = current["status"] if current else "gone"
        raise conflict(IllegalTransition(machine.name, state, action, machine.allowed(state)))
    moved = await load(session, table, row["id"])
    assert moved is not None
    return moved
