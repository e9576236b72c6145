"""An audit entry that covers a set of rows elsewhere (a bulk job's history) by reference and digest.

A job that changes 250,000 families writes one audit entry, not 250,000: the entry names the rows (table, the
LIKE pattern on one column, the id range), their count and a digest over them, computed set-based in the database
on PostgreSQL (one aggregate: the sha256 of the concatenated per-row sha256 in id order). The chain then covers
those rows: verification computes the digest again, so a covered row edited, deleted or added is found at the
entry that references it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, LargeBinary, MetaData, Table, Text, cast, func, literal, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

# The key under which an entry's `after` carries its reference (and a cheap test before parsing it).
COVERS = '"covers":'
_PAGE = 5000


@dataclass(frozen=True)
class RowsReference:
    """Rows of `table` whose `column` matches `pattern` with id in first_id..last_id: `rows` of them, `digest`."""

    table: str
    column: str
    pattern: str
    first_id: int | None
    last_id: int | None
    rows: int
    digest: str

    def as_json(self) -> dict[str, Any]:
        """The reference as it is stored in the audit entry."""
        return asdict(self)


def _key(table: Table) -> Any:
    (key,) = table.primary_key.columns
    return key


def _where(table: Table, column: str, pattern: str, first_id: int | None, last_id: int | None) -> list[Any]:
    key = _key(table)
    conditions = [table.c[column].like(pattern)]
    if first_id is not None and last_id is not None:
        conditions.append(key.between(first_id, last_id))
    return conditions


async def _pg_digest(session: AsyncSession, table: Table, conditions: list[Any]) -> tuple[Any, ...]:
    def encoded(column: Any) -> Any:
        # Text of a timestamptz follows the session's TimeZone: pin it to UTC.
        if isinstance(column.type, DateTime):
            return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US')
        return column

    row_json = func.json_build_array(*[encoded(c) for c in table.columns])
    per_row = func.sha256(func.convert_to(cast(row_json, Text), "UTF8"))
    empty: Any = literal_column("''::bytea")
    joined = func.string_agg(per_row, aggregate_order_by(empty, _key(table)))
    digest = func.encode(func.sha256(func.coalesce(joined, cast(literal(b""), LargeBinary))), "hex")
    key = _key(table)
    stmt = select(func.min(key), func.max(key), func.count(), digest).where(*conditions)
    return tuple((await session.execute(stmt)).one())


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(timespec="microseconds")
    return value


async def _streamed_digest(session: AsyncSession, table: Table, conditions: list[Any]) -> tuple[Any, ...]:
    """The same aggregate computed page by page in Python (SQLite has no sha256; the embedded mode is small)."""
    key = _key(table)
    outer = hashlib.sha256()
    first = last = None
    count, after = 0, None
    while True:
        stmt = select(table).where(*conditions).order_by(key).limit(_PAGE)
        if after is not None:
            stmt = stmt.where(key > after)
        rows = (await session.execute(stmt)).all()
        if not rows:
            break
        for row in rows:
            encoded = json.dumps([_plain(v) for v in row], sort_keys=True, default=str, ensure_ascii=False)
            outer.update(hashlib.sha256(encoded.encode()).digest())
        first = rows[0][0] if first is None else first
        last, after = rows[-1][0], rows[-1][0]
        count += len(rows)
    return first, last, count, outer.hexdigest()


async def reference_rows(
    session: AsyncSession,
    table: Table,
    *,
    column: str,
    pattern: str,
    first_id: int | None = None,
    last_id: int | None = None,
) -> RowsReference:
    """Count and digest the rows of `table` whose `column` is LIKE `pattern` (within the id range, if given)."""
    conditions = _where(table, column, pattern, first_id, last_id)
    if session.bind.dialect.name == "postgresql":
        lo, hi, count, digest = await _pg_digest(session, table, conditions)
    else:
        lo, hi, count, digest = await _streamed_digest(session, table, conditions)
    return RowsReference(
        table=table.name,
        column=column,
        pattern=pattern,
        first_id=None if lo is None else int(lo),
        last_id=None if hi is None else int(hi),
        rows=int(count),
        digest=str(digest),
    )


async def check_reference(session: AsyncSession, metadata: MetaData, after: str) -> str | None:
    """Why the rows an entry references no longer match it (None: they do, or it references none)."""
    try:
        covers = json.loads(after).get("covers")
    except (ValueError, AttributeError):
        return None
    if not isinstance(covers, dict):
        return None
    try:
        stored = RowsReference(**covers)
    except TypeError:
        return "the entry's row reference is malformed"
    table = metadata.tables.get(stored.table)
    if table is None:
        return f"the entry references rows of an unknown table {stored.table!r}"
    if stored.rows == 0:
        return None
    now = await reference_rows(
        session,
        table,
        column=stored.column,
        pattern=stored.pattern,
        first_id=stored.first_id,
        last_id=stored.last_id,
    )
    if now.rows != stored.rows:
        return f"{stored.table} rows the entry covers: {stored.rows} recorded, {now.rows} now"
    if now.digest != stored.digest:
        return f"{stored.table} rows the entry covers were altered after it was written"
    return None
