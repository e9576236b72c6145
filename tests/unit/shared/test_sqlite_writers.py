"""Embedded SQLite: writers of one process queue on the event loop, so a second writer never freezes the loop."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from services.registry.settings import RegistrySettings
from shared.db.engine import create_engine
from shared.db.sqlite_writers import writes


def test_only_plain_reads_skip_the_gate() -> None:
    assert not writes("SELECT 1")
    assert not writes("  \n(SELECT 1) UNION (SELECT 2)")
    assert not writes("pragma table_info(x)")
    assert writes("INSERT INTO t VALUES (1)")
    assert writes("update t set a = 1")
    assert writes("WITH x AS (SELECT 1) DELETE FROM t")
    assert writes("CREATE TABLE t (a INTEGER)")


async def test_a_waiting_writer_leaves_the_event_loop_free(tmp_path: Path) -> None:
    """The deadlock this gate prevents: writer B waits for writer A while the loop finalises a cursor of B's
    connection. Without the gate B sleeps inside SQLite holding its connection's mutex, the cursor's finaliser
    blocks the loop on that mutex, A can never commit, and B fails with "database is locked" after the busy
    timeout."""
    engine = create_engine(RegistrySettings(data_dir=tmp_path, bus="local"))
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("CREATE TABLE t (who TEXT NOT NULL)"))

        a_holds = asyncio.Event()
        a_may_commit = asyncio.Event()
        cursor_ready = asyncio.Event()
        box: list[Any] = []

        async def writer_a() -> None:
            async with engine.begin() as conn:
                await conn.execute(sa.text("INSERT INTO t VALUES ('a')"))
                a_holds.set()
                await a_may_commit.wait()

        async def writer_b() -> None:
            await a_holds.wait()
            async with engine.begin() as conn:
                raw = (await conn.get_raw_connection()).driver_connection
                assert raw is not None
                # A cursor of B's connection with a statement still in use, as an exception traceback keeps one.
                cursor = await raw.execute("SELECT 1 UNION ALL SELECT 2")
                await cursor.fetchone()
                box.append(cursor)
                del cursor
                cursor_ready.set()
                await conn.execute(sa.text("INSERT INTO t VALUES ('b')"))

        a = asyncio.create_task(writer_a())
        b = asyncio.create_task(writer_b())
        await cursor_ready.wait()
        for _ in range(20):  # let B reach its wait for A
            await asyncio.sleep(0.01)
        assert not b.done()
        # Finalise B's cursor on the loop thread, as the garbage collector would.
        box.clear()
        gc.collect()
        a_may_commit.set()
        await asyncio.wait_for(asyncio.gather(a, b), timeout=60)

        async with engine.connect() as conn:
            rows = (await conn.execute(sa.text("SELECT who FROM t ORDER BY rowid"))).scalars().all()
        assert rows == ["a", "b"]
    finally:
        await engine.dispose()
