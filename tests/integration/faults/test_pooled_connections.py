"""Pooled PostgreSQL connections without pool_pre_ping (`shared/db/engine.py`): after a server restart or a
terminated backend the next unit of work gets a live connection, not an error, and a connection idle for a while
is pinged before use while a busy one costs no extra round trip."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

from shared.db import engine as engine_module
from shared.runtime.service import ServiceRuntime
from tests.support.durable_pg import DurablePostgres
from tests.support.waiting import wait_for

pytestmark = pytest.mark.infra


async def _backend_pid(runtime: ServiceRuntime) -> int:
    async with runtime.sessions() as session, session.begin():
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_restart_costs_no_failed_request(registry_runtime: ServiceRuntime, durable_pg: DurablePostgres) -> None:
    before = await _backend_pid(registry_runtime)
    durable_pg.stop()
    durable_pg.start()
    await asyncio.sleep(0.1)  # a running service's event loop takes in the closed socket meanwhile; this one blocked
    # The pooled connection is dead; the checkout notices and the pool opens a new one.
    after = await _backend_pid(registry_runtime)
    assert after != before


async def test_a_terminated_backend_is_replaced(registry_runtime: ServiceRuntime, durable_pg: DurablePostgres) -> None:
    victim = await _backend_pid(registry_runtime)
    admin = await asyncpg.connect(durable_pg.infra.pg_admin_url)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", victim) is True
        await wait_for(lambda: _gone(admin, victim), bool, timeout=10)
    finally:
        await admin.close()
    await asyncio.sleep(0.05)  # the closed socket reaches asyncpg on the next turns of the event loop
    for _ in range(3):
        assert await _backend_pid(registry_runtime) != victim


async def _gone(admin: asyncpg.Connection, pid: int) -> bool:
    return int(await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)) == 0


async def test_only_idle_connections_are_pinged(
    registry_runtime: ServiceRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[int] = []
    real_ping: Callable[[Any], None] = AsyncAdapt_asyncpg_connection.ping

    def counting_ping(self: Any) -> None:
        pings.append(1)
        real_ping(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counting_ping)
    first = await _backend_pid(registry_runtime)
    for _ in range(5):
        assert await _backend_pid(registry_runtime) == first  # the same live connection, reused
    assert pings == []
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert await _backend_pid(registry_runtime) == first
    assert pings == [1]
