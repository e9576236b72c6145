"""SQL building blocks that differ between PostgreSQL (distributed) and SQLite (embedded)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, Text, cast, collate, func, literal, literal_column, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def is_pg(session: AsyncSession) -> bool:
    """True on PostgreSQL."""
    return session.bind.dialect.name == "postgresql"


def insert_for(session: AsyncSession, table: Table) -> Any:
    """The dialect's INSERT construct (both have ON CONFLICT)."""
    return (postgresql.insert if is_pg(session) else sqlite.insert)(table)


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


def new_uuid(pg: bool) -> ColumnElement[str]:
    """A random uuid (v4 layout) as text, one per row."""
    if pg:
        return literal_column("gen_random_uuid()::text")
    return literal_column(
        "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'"
        " || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-'"
        " || hex(randomblob(6)))"
    )


def binary_order(pg: bool, value: Any) -> Any:
    """Order text by code point on both databases (what Python's sort does)."""
    return collate(value, "C") if pg else value


def as_text(value: Any) -> ColumnElement[str]:
    """Cast to text (both dialects accept CAST(... AS TEXT))."""
    return cast(value, Text)


async def analyze(session: AsyncSession, *tables: str) -> None:
    """Refresh planner statistics after a bulk write in this transaction (PostgreSQL counts its own new rows).

    Without it the planner still believes a just-filled table is empty and picks nested loops: quadratic cost."""
    if is_pg(session):
        for name in tables:
            await session.execute(text(f"ANALYZE {name}"))
