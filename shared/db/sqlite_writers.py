"""One SQLite writer at a time within the process, queued on the event loop instead of inside SQLite.

Why (embedded mode only): SQLite lets one connection write at a time, and a second writer normally waits *in its
connection's thread* (busy_timeout), holding that connection's mutex while it sleeps. If the garbage collector then
finalises a cursor of that same connection on the event-loop thread (a cursor kept alive by an exception's
traceback, for example), CPython's sqlite3 resets the statement with the GIL held and blocks on that mutex: the
event loop freezes, the first writer can never reach its COMMIT, and both wait out the whole busy timeout before
one fails with "database is locked". Queuing writers of this process on an asyncio lock before their first write
means no connection thread ever sleeps waiting for another connection of the same process, so the loop never
blocks behind one. Other processes on the same file (a CLI import next to `tepat serve`) still meet SQLite's own
busy timeout.

The gate is taken at a connection's first writing statement and given back when the connection returns to the
pool (after its COMMIT or ROLLBACK), or when the pool drops it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

# Statements that read only: everything else (DML, DDL, WITH ..., VACUUM) is treated as a write, to stay safe.
_READS = ("SELECT", "PRAGMA", "EXPLAIN", "VALUES")
_HOLDS = "tepat_sqlite_writer"


def writes(statement: str) -> bool:
    """Whether a SQL statement may write (anything that does not start as a plain read)."""
    return not statement.lstrip(" \t\r\n(").upper().startswith(_READS)


def install_writer_gate(engine: AsyncEngine, *, timeout: float) -> asyncio.Lock:
    """Make the engine's writers wait for each other on the event loop; the gate (for tests)."""
    gate = asyncio.Lock()

    def acquire(conn: Connection, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        info = conn.info
        if info.get(_HOLDS) or not writes(statement):
            return
        try:
            await_only(asyncio.wait_for(gate.acquire(), timeout))
        except TimeoutError:
            # The same error SQLite gives after its busy timeout, so callers handle both alike.
            raise sqlite3.OperationalError(
                f"database is locked (another writer of this process held it for over {timeout:g}s)"
            ) from None
        info[_HOLDS] = True

    def release(_dbapi_connection: Any, record: Any, *_rest: Any) -> None:
        if record is not None and record.info.pop(_HOLDS, False):
            gate.release()

    event.listen(engine.sync_engine, "before_cursor_execute", acquire)
    for name in ("checkin", "invalidate", "soft_invalidate", "detach", "close"):
        event.listen(engine.sync_engine.pool, name, release)
    return gate
