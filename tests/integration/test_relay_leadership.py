"""Exactly one relay per service is active on PostgreSQL; a standby takes over when the leader stops."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from services.registry.app import definition as registry_definition
from services.registry.settings import RegistrySettings
from shared.outbox.relay import OutboxRelay
from shared.runtime.probe import emit_probes
from shared.runtime.service import ServiceRuntime
from tests.support.infra import Infra
from tests.support.kafka import CountingKafkaPublisher
from tests.support.runtimes import unpublished
from tests.support.waiting import wait_for

pytestmark = pytest.mark.infra


async def test_single_active_relay_and_failover(pg_settings: Any, infra: Infra) -> None:
    runtime = ServiceRuntime(registry_definition(pg_settings(RegistrySettings)))
    await runtime.migrate()
    table = runtime.definition.messaging.outbox
    pubs = [CountingKafkaPublisher(infra.kafka_bootstrap), CountingKafkaPublisher(infra.kafka_bootstrap)]
    for p in pubs:
        await p.start()
    relays = [
        OutboxRelay(source="registry", engine=runtime.engine, table=table, publisher=p, poll_interval_s=0.1)
        for p in pubs
    ]
    tasks = [asyncio.create_task(r.run()) for r in relays]
    try:
        await wait_for(lambda: _leaders(relays), lambda n: n == 1)
        await asyncio.sleep(0.5)
        assert await _leaders(relays) == 1  # the other stays on standby
        leader = next(i for i, r in enumerate(relays) if r.is_leader)

        async with runtime.sessions() as session, session.begin():
            await emit_probes(session, runtime.outbox, count=30)
        await wait_for(lambda: unpublished(runtime), lambda n: n == 0)
        assert len(pubs[leader].messages) == 30
        assert pubs[1 - leader].messages == []
        keys = [m.key for m in pubs[leader].messages]
        assert keys == [f"probe-{i}".encode() for i in range(30)]  # id order

        relays[leader].stop()
        await tasks[leader]
        standby = 1 - leader
        await wait_for(lambda: _is_leader(relays[standby]), lambda ok: ok, timeout=10)
        async with runtime.sessions() as session, session.begin():
            await emit_probes(session, runtime.outbox, count=5, start=100)
        await wait_for(lambda: unpublished(runtime), lambda n: n == 0)
        assert len(pubs[standby].messages) == 5
    finally:
        for r in relays:
            r.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        for p in pubs:
            await p.stop()
        await runtime.stop()


async def _leaders(relays: list[OutboxRelay]) -> int:
    return sum(r.is_leader for r in relays)


async def _is_leader(relay: OutboxRelay) -> bool:
    return relay.is_leader


async def test_relay_stands_down_when_its_lock_connection_dies(
    pg_settings: Any, infra: Infra, pg_database: str
) -> None:
    runtime = ServiceRuntime(registry_definition(pg_settings(RegistrySettings)))
    await runtime.migrate()
    publisher = CountingKafkaPublisher(infra.kafka_bootstrap)
    await publisher.start()
    relay = OutboxRelay(
        source="registry",
        engine=runtime.engine,
        table=runtime.definition.messaging.outbox,
        publisher=publisher,
        poll_interval_s=0.1,
    )
    task = asyncio.create_task(relay.run())
    admin = await asyncpg.connect(infra.admin_url(pg_database))
    try:
        await wait_for(lambda: _is_leader(relay), lambda ok: ok)
        killed = await admin.fetchval(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1"
        )
        assert killed is True
        # It stands down, takes the lock again on a fresh connection, and goes on relaying.
        await wait_for(lambda: _terms(relay), lambda n: n == 2, timeout=15)
        assert relay.is_leader
        async with runtime.sessions() as session, session.begin():
            await emit_probes(session, runtime.outbox, count=3)
        await wait_for(lambda: unpublished(runtime), lambda n: n == 0)
        assert len(publisher.messages) == 3
    finally:
        await admin.close()
        relay.stop()
        await asyncio.gather(task, return_exceptions=True)
        await publisher.stop()
        await runtime.stop()


async def _terms(relay: OutboxRelay) -> int:
    return relay.terms
