"""Writing rows into the staging tables: COPY on PostgreSQL, executemany on SQLite; emptying them per job."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, delete, insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.imports.extract import RowError
from services.registry.imports.models import STAGING_TABLES, import_error

# A fixed key: imports run one at a time (they share the staging tables and touch many families).
IMPORT_LOCK_KEY = 7_310_001


def is_postgres(session: AsyncSession) -> bool:
    """True on PostgreSQL (distributed mode)."""
    return session.bind.dialect.name == "postgresql"


async def lock_imports(session: AsyncSession) -> None:
    """Serialise imports for the rest of the transaction (SQLite serialises writers anyway)."""
    if is_postgres(session):
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": IMPORT_LOCK_KEY})


async def tune_session(session: AsyncSession) -> None:
    """Memory for the job's sorts, hashes and index builds, for this transaction only (4 MB spilled to disk)."""
    if is_postgres(session):
        await session.execute(text("SET LOCAL work_mem = '64MB'"))
        await session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        # JIT compiled each big statement again (0.1-0.3 s each) for plans that are mostly I/O and index work.
        await session.execute(text("SET LOCAL jit = off"))


async def clear_staging(session: AsyncSession) -> None:
    """Empty every staging table (imports hold the lock, so no other job is using them)."""
    for table in STAGING_TABLES:
        if is_postgres(session):
            await session.execute(text(f"TRUNCATE {table.name}"))
        else:
            await session.execute(delete(table))


async def analyze(session: AsyncSession, *tables: Table) -> None:
    """Fresh planner statistics after a bulk load (the staging tables go from empty to a million rows)."""
    if is_postgres(session):
        for table in tables:
            await session.execute(text(f"ANALYZE {table.name}"))


async def copy_records(session: AsyncSession, table: Table, records: Sequence[tuple[Any, ...]]) -> None:
    """Append records (tuples in the table's column order) with COPY (PostgreSQL) or executemany."""
    if not records:
        return
    columns = [c.name for c in table.columns if not (c.primary_key and c.autoincrement is True)]
    if is_postgres(session):
        raw = await (await session.connection()).get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.copy_records_to_table(table.name, records=records, columns=columns)
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
