"""SQL building blocks that differ between PostgreSQL (distributed) and SQLite (embedded)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, collate, func, literal, text
from sqlalchemy.ext.asyncio import AsyncSession

# Re-exported: the shared toolkit owns them; disbursement's modules keep importing them from here.
from shared.db.dialect import insert_for as insert_for
from shared.db.dialect import is_pg as is_pg


def least(pg: bool, *values: Any) -> ColumnElement[Any]:
    """Smallest of scalar values (SQLite's multi-argument min is scalar)."""
    return func.least(*values) if pg else func.min(*values)


def greatest(pg: bool, *values: Any) -> ColumnElement[Any]:
    """Largest of scalar values."""
    return func.greatest(*values) if pg else func.max(*values)


def json_object(pg: bool, **pairs: Any) -> ColumnElement[str]:
    """A JSON object as text, built in SQL (keys are the keyword names)."""
    args: list[Any] = []
    for key, value in pairs.items():
        args.extend([literal(key), value])
    if pg:
        return cast(func.json_build_object(*args), Text)
    return func.json_object(*args)


def numbered_uuids(pg: bool) -> ColumnElement[str]:
    """One uuid per row of the statement: a random uuid4 whose last 12 hex digits count the rows.

    Unique like random ids (a fresh random prefix per statement), but the rows of one bulk statement land next to
    each other in a unique index instead of at random pages: a third cheaper for hundreds of thousands of events."""
    prefix = literal(str(uuid.uuid4())[:24])
    n = func.row_number().over()
    if pg:
        return prefix + func.lpad(func.to_hex(n), 12, "0")
    return prefix + func.printf("%012x", n)


def binary_order(pg: bool, value: Any) -> Any:
    """Order text by code point on both databases (what Python's sort does)."""
    return collate(value, "C") if pg else value


def as_text(value: Any) -> ColumnElement[str]:
    """Cast to text (both dialects accept CAST(... AS TEXT))."""
    return cast(value, Text)


async def bulk_settings(session: AsyncSession) -> None:
    """PostgreSQL settings for the rest of a transaction that runs statements over a whole list.

    Sorts of a whole city fit in memory instead of spilling to disk, and no JIT compilation: the big statements
    are I/O and sort bound, JIT only adds its compile time to each of them."""
    await session.execute(text("SET LOCAL work_mem = '256MB'"))
    await session.execute(text("SET LOCAL jit = off"))


async def analyze(session: AsyncSession, *tables: str, columns: tuple[str, ...] = ()) -> None:
    """Refresh planner statistics after a bulk write in this transaction (PostgreSQL counts its own new rows).

    Without it the planner still believes a just-filled table is empty and picks nested loops: quadratic cost.
    `columns` limits the work to the columns the following statements filter and join on."""
    if is_pg(session):
        only = f" ({', '.join(columns)})" if columns else ""
        for name in tables:
            await session.execute(text(f"ANALYZE {name}{only}"))
