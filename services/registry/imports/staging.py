"""Writing rows into the staging tables: COPY on PostgreSQL, executemany on SQLite; emptying them per job."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, delete, insert, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.schema import CreateIndex, DropIndex

from services.registry.imports.extract import BadRow, RowError
from services.registry.imports.models import STAGING_TABLES, import_bad_row, import_error
from shared.db.dialect import analyze as shared_analyze
from shared.db.dialect import is_pg

STAGING_NAMES = frozenset(t.name for t in STAGING_TABLES)
# A fixed key: imports run one at a time (they share the staging tables and touch many families).
IMPORT_LOCK_KEY = 7_310_001


async def lock_imports(session: AsyncSession) -> None:
    """Serialise imports for the rest of the transaction (SQLite serialises writers anyway)."""
    if is_pg(session):
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": IMPORT_LOCK_KEY})


async def clear_staging(session: AsyncSession) -> None:
    """Empty every staging table (imports hold the lock, so no other job is using them)."""
    for table in STAGING_TABLES:
        if is_pg(session):
            await session.execute(text(f"TRUNCATE {table.name}"))
        else:
            await session.execute(delete(table))


async def analyze(session: AsyncSession, *tables: Table, columns: tuple[str, ...] = ()) -> None:
    """Fresh planner statistics after a bulk load (the staging tables go from empty to a million rows).

    A staging table is sampled coarsely: the merge's plans need its size and rough distinct counts, not
    histograms. The registry's own tables keep the full sample: the service plans with it long after the import."""
    for table in tables:
        await shared_analyze(session, table, columns=columns, coarse=table.name in STAGING_NAMES)


async def drop_indexes(session: AsyncSession, table: Table) -> None:
    """Drop a staging table's indexes before a bulk load (one sorted build afterwards beats per-row upkeep)."""
    if is_pg(session):
        for ix in table.indexes:
            await session.execute(DropIndex(ix))


async def create_indexes(session: AsyncSession, table: Table, *, analyzed: bool = True) -> None:
    """Build the indexes `drop_indexes` dropped, in the same transaction, and (unless the caller analyses the
    table itself) refresh its statistics."""
    if is_pg(session):
        for ix in table.indexes:
            await session.execute(CreateIndex(ix))
    if analyzed:
        await analyze(session, table)


def _columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if not (c.primary_key and c.autoincrement is True)]


async def _driver(session: AsyncSession) -> Any:
    raw = await (await session.connection()).get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    return driver


async def copy_csv(session: AsyncSession, table: Table, data: bytes) -> None:
    """Append CSV rows (the table's column order, no header) with COPY (PostgreSQL only)."""
    if data:
        # A buffer, not a file object: asyncpg reads a file object in executor threads, and each new thread's
        # malloc arena grew the process as the file grew. (Not `bytes` either: asyncpg takes bytes for a path.)
        await (await _driver(session)).copy_to_table(
            table.name, source=memoryview(data), columns=_columns(table), format="csv"
        )


async def copy_records(session: AsyncSession, table: Table, records: Sequence[tuple[Any, ...]]) -> None:
    """Append records (tuples in the table's column order) with COPY (PostgreSQL) or executemany."""
    if not records:
        return
    columns = _columns(table)
    if is_pg(session):
        await (await _driver(session)).copy_records_to_table(table.name, records=records, columns=columns)
    else:
        await session.execute(insert(table), [dict(zip(columns, r, strict=True)) for r in records])


async def add_errors(session: AsyncSession, import_id: str, errors: Sequence[RowError]) -> None:
    """Append row errors to the job's error report."""
    if not errors:
        return
    await copy_records(
        session,
        import_error,
        [(import_id, e.row_no, e.field, e.reason, e.no_kk[:32] if e.no_kk else None) for e in errors],
    )


async def add_bad_rows(session: AsyncSession, import_id: str, rows: Sequence[BadRow]) -> None:
    """Stage the raw values of rows that failed validation (they become correction-queue entries)."""
    if not rows:
        return
    # asyncpg's COPY takes JSON as text; SQLAlchemy's executemany serialises it itself.
    encode = json.dumps if is_pg(session) else (lambda v: v)
    await copy_records(
        session,
        import_bad_row,
        [(import_id, b.row_no, b.no_kk, b.nik, b.relationship, b.kelurahan_code, encode(b.raw), None) for b in rows],
    )
