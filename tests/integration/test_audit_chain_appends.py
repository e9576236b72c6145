"""Appending to the audit chain: several entries of one transaction, concurrent transactions and savepoints keep
the chain linear on PostgreSQL and on SQLite, and a transaction's later entries cost one INSERT each."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from services.registry.app import definition
from services.registry.settings import RegistrySettings
from shared.runtime.service import ServiceRuntime
from tests.support.infra import Infra, create_database, drop_database


@pytest.fixture(params=["postgresql", "sqlite"])
async def runtime(request: pytest.FixtureRequest, infra: Infra, tmp_path: Path) -> AsyncIterator[ServiceRuntime]:
    database = None
    if request.param == "postgresql":
        database = await create_database(infra, "t")
        settings = RegistrySettings(database_url=infra.service_url("registry", database), data_dir=tmp_path)
    else:
        settings = RegistrySettings(data_dir=tmp_path, bus="local")
    rt = ServiceRuntime(definition(settings))
    await rt.migrate()
    try:
        yield rt
    finally:
        await rt.engine.dispose()
        if database is not None:
            await drop_database(infra, database)


async def _entries(rt: ServiceRuntime) -> list[tuple[int, str | None]]:
    t = rt.audit.table
    async with rt.sessions() as session:
        return [(r.seq, r.record_id) for r in await session.execute(select(t.c.seq, t.c.record_id).order_by(t.c.seq))]


async def _record(rt: ServiceRuntime, session: Any, record_id: str) -> int:
    return await rt.audit.record(session, actor="t", role="system", action="test", record_type="x", record_id=record_id)


async def test_concurrent_transactions_of_several_entries_keep_one_chain(runtime: ServiceRuntime) -> None:
    async def writer(n: int) -> tuple[int, int, int]:
        async with runtime.sessions() as session, session.begin():
            first = await _record(runtime, session, f"{n}-a")
            await asyncio.sleep(0.001 * (n % 3))  # let the others run between this transaction's entries
            second = await _record(runtime, session, f"{n}-b")
            third = await _record(runtime, session, f"{n}-c")
        return first, second, third

    results = await asyncio.gather(*(writer(n) for n in range(12)))
    # Each transaction's entries are consecutive: nobody appended between them.
    assert all(b == a + 1 and c == b + 1 for a, b, c in results)
    entries = await _entries(runtime)
    assert [seq for seq, _ in entries] == list(range(1, 37))
    async with runtime.sessions() as session:
        checked, broken = await runtime.audit.verify(session)
    assert (checked, broken) == (36, None)


async def test_an_entry_rolled_back_with_its_savepoint_is_not_linked_to(runtime: ServiceRuntime) -> None:
    async with runtime.sessions() as session, session.begin():
        await _record(runtime, session, "kept-1")
        nested = await session.begin_nested()
        await _record(runtime, session, "rolled-back")
        await nested.rollback()
        await _record(runtime, session, "kept-2")
    async with runtime.sessions() as session, session.begin():
        await _record(runtime, session, "next")
    assert await _entries(runtime) == [(1, "kept-1"), (2, "kept-2"), (3, "next")]
    async with runtime.sessions() as session:
        assert await runtime.audit.verify(session) == (3, None)


async def test_later_entries_of_a_transaction_are_one_insert_each(runtime: ServiceRuntime) -> None:
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with runtime.sessions() as session, session.begin():
            await _record(runtime, session, "first")
            first = list(statements)
            statements.clear()
            await _record(runtime, session, "second")
            await _record(runtime, session, "third")
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", seen)
    # The first entry reads the head (after the lock on PostgreSQL, under the writer gate on SQLite); the later
    # ones know it.
    pg = runtime.engine.dialect.name == "postgresql"
    assert first == (["SELECT", "SELECT", "INSERT"] if pg else ["WITH", "INSERT"])
    assert statements == ["INSERT", "INSERT"]
    async with runtime.sessions() as session:
        assert await runtime.audit.verify(session) == (3, None)


@pytest.mark.parametrize("runtime", ["postgresql"], indirect=True)  # SQLite has one writer at a time: no race
@pytest.mark.parametrize("outcome", ["commit", "rollback"])
async def test_a_writer_racing_an_uncommitted_entry_links_to_what_that_one_became(
    runtime: ServiceRuntime, outcome: str
) -> None:
    async with runtime.sessions() as session, session.begin():
        await _record(runtime, session, "base")
    holder = runtime.sessions()
    await holder.begin()
    assert await _record(runtime, holder, "held") == 2  # number 2, uncommitted
    racer_done = asyncio.Event()

    async def racer() -> int:
        async with runtime.sessions() as session, session.begin():
            seq = await _record(runtime, session, "racer")
        racer_done.set()
        return seq

    task = asyncio.create_task(racer())
    await asyncio.sleep(0.3)
    assert not racer_done.is_set()  # it waits for the holder's transaction
    await (holder.commit() if outcome == "commit" else holder.rollback())
    await holder.close()
    expected = [(1, "base"), (2, "held"), (3, "racer")] if outcome == "commit" else [(1, "base"), (2, "racer")]
    assert await task == expected[-1][0]
    assert await _entries(runtime) == expected
    async with runtime.sessions() as session:
        assert await runtime.audit.verify(session) == (len(expected), None)
