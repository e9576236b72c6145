"""SQL building blocks whose form differs between PostgreSQL (distributed) and SQLite (embedded): the insert with
ON CONFLICT, the many-row insert over arrays, JSON objects, the id schemes of bulk statements (numbered per statement
or per job), bulk settings and planner statistics."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, Table, Text, TextClause, cast, collate, func, literal, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def is_pg(session: AsyncSession) -> bool:
    """True on PostgreSQL."""
    return session.bind.dialect.name == "postgresql"


def insert_on(pg: bool, table: Table) -> Any:
    """The dialect's INSERT construct (both have ON CONFLICT DO NOTHING / DO UPDATE), for a statement built
    before a session is at hand."""
    return (postgresql.insert if pg else sqlite.insert)(table)


def insert_for(session: AsyncSession, table: Table) -> Any:
    """The INSERT construct of the session's dialect (both have ON CONFLICT DO NOTHING / DO UPDATE)."""
    return insert_on(is_pg(session), table)


def unnest_insert(
    table: Table, columns: Mapping[str, str], rows: Sequence[Mapping[str, Any]], *, suffix: str = ""
) -> tuple[TextClause, dict[str, list[Any]]]:
    """PostgreSQL's many-row INSERT: one array parameter per column (`columns` maps each to its SQL type) unnested
    into rows, then `suffix` (ON CONFLICT ..., RETURNING ...); the statement and its parameters.

    A VALUES list or executemany binds every value of every row; arrays bind once per column, so a hot path (the
    inbox claim, an effect row per event) costs the same few round-trip bytes and no per-row statement."""
    params = {f"p_{name}": [row[name] for row in rows] for name in columns}
    arrays = ", ".join(f"CAST(:p_{name} AS {sql_type}[])" for name, sql_type in columns.items())
    quoted = ", ".join(f'"{name}"' for name in columns)
    stmt = text(f"INSERT INTO {table.name} ({quoted}) SELECT * FROM unnest({arrays}) {suffix}".rstrip())
    return stmt, params


def json_object(pg: bool, *pairs: Any) -> ColumnElement[Any]:
    """A JSON object built in SQL from key, value, key, value, … (same arguments, different function name)."""
    return func.json_build_object(*pairs) if pg else func.json_object(*pairs)


def json_text(pg: bool, *pairs: Any) -> ColumnElement[str]:
    """A JSON object as text, for a text column such as an outbox row's data."""
    return cast(json_object(pg, *pairs), Text) if pg else json_object(pg, *pairs)


def numbered_uuids(pg: bool) -> ColumnElement[str]:
    """One uuid per row of the statement: a random uuid4 whose last 12 hex digits count the rows.

    Unique like random ids (a fresh random prefix per statement), but the rows of one bulk statement land next to
    each other in a unique index instead of at random pages: a third cheaper for hundreds of thousands of events."""
    prefix = literal(str(uuid.uuid4())[:24])
    n = func.row_number().over()
    if pg:
        return prefix + func.lpad(func.to_hex(n), 12, "0")
    return prefix + func.printf("%012x", n)


def job_uuid(pg: bool, job_id: str, serial: Any, kind: str = "") -> ColumnElement[str]:
    """A uuid made of a 24-character prefix of the job and a 12-hex-digit serial (a row number of the job).

    The prefix is the job id's start, or with `kind` (one per id space: "family", "member") that of a uuid5 of
    job and kind. Unique (the job id is random, the serial unique within the job and kind) but consecutive: a
    job's ids land at one end of a unique index instead of all over it, and cost a seventh of
    `gen_random_uuid()` (1 µs a row: a second for a city's members). Rerunning the job gives the same ids."""
    prefix = literal(
        job_id[:24] if not kind else str(uuid.uuid5(uuid.NAMESPACE_URL, f"tepat:{job_id}:{kind}"))[:24], String
    )
    if pg:
        return prefix + func.lpad(func.to_hex(serial), 12, "0")
    return prefix + func.substr(literal("000000000000", String) + func.printf("%x", serial), -12)


def least(pg: bool, *values: Any) -> ColumnElement[Any]:
    """Smallest of scalar values (SQLite's multi-argument min is scalar)."""
    return func.least(*values) if pg else func.min(*values)


def greatest(pg: bool, *values: Any) -> ColumnElement[Any]:
    """Largest of scalar values."""
    return func.greatest(*values) if pg else func.max(*values)


def binary_order(pg: bool, value: Any) -> Any:
    """Order text by code point on both databases (what Python's sort does)."""
    return collate(value, "C") if pg else value


def as_text(value: Any) -> ColumnElement[str]:
    """Cast to text (both dialects accept CAST(... AS TEXT))."""
    return cast(value, Text)


async def bulk_settings(session: AsyncSession, *, index_builds: bool = False) -> None:
    """PostgreSQL settings for the rest of a transaction that runs statements over a whole list or import.

    Sorts of a whole city fit in memory instead of spilling to disk (4 MB by default), and no JIT compilation:
    the big statements are I/O and sort bound, JIT only added 0.1-0.3 s of compile time to each of them.
    `index_builds`: memory for index builds as well (an import drops and rebuilds its staging indexes).
    Nothing to do on SQLite."""
    if is_pg(session):
        await session.execute(text("SET LOCAL work_mem = '256MB'"))
        if index_builds:
            await session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        await session.execute(text("SET LOCAL jit = off"))


async def analyze(
    session: AsyncSession, *tables: Table | str, columns: tuple[str, ...] = (), coarse: bool = False
) -> None:
    """Refresh planner statistics after a bulk write in this transaction (PostgreSQL counts its own new rows).

    Without it the planner still believes a just-filled table is empty and picks nested loops: quadratic cost.
    `columns` limits the work to the columns the following statements filter and join on (checked against the
    table's columns when a Table is given). `coarse` samples 3,000 rows instead of 30,000: enough for a staging
    table's size and rough distinct counts, where the full sample of a city-size file took half a second."""
    if not is_pg(session):
        return
    if coarse:
        await session.execute(text("SET LOCAL default_statistics_target = 10"))
    for table in tables:
        names = [table.c[c].name for c in columns] if isinstance(table, Table) else list(columns)
        listed = f" ({', '.join(names)})" if names else ""
        await session.execute(text(f"ANALYZE {table if isinstance(table, str) else table.name}{listed}"))
    if coarse:
        await session.execute(text("SET LOCAL default_statistics_target = DEFAULT"))
