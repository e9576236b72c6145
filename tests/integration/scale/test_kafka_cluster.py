"""Three brokers, replication factor 3, min.insync.replicas=2, producers with acks=all: a broker killed while
events flow outbox → relay → Kafka → inbox loses nothing and applies nothing twice."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.registry.app import definition as registry_definition
from services.registry.settings import RegistrySettings
from shared.events.topics import PROBE
from shared.runtime.probe import emit_probes
from shared.runtime.service import ServiceRuntime
from tests.support.kafka import end_offsets_total
from tests.support.kafka_cluster import KafkaCluster
from tests.support.runtimes import receipts, unpublished
from tests.support.waiting import wait_for

pytestmark = pytest.mark.infra

ROUNDS = 30
PER_ROUND = 20


async def test_a_broker_killed_while_events_flow_loses_and_duplicates_nothing(
    pg_settings: Any, kafka_cluster: KafkaCluster
) -> None:
    settings = pg_settings(RegistrySettings, kafka_bootstrap=kafka_cluster.bootstrap, relay_poll_interval_ms=50)
    runtime = ServiceRuntime(registry_definition(settings))
    await runtime.migrate()
    await runtime.start_workers(schedule=False)
    total = 0
    try:
        for i in range(ROUNDS):
            async with runtime.sessions() as session, session.begin():
                await emit_probes(session, runtime.outbox, count=PER_ROUND, start=total)
            total += PER_ROUND
            if i == ROUNDS // 3:
                await asyncio.to_thread(kafka_cluster.kill, 1)
            await asyncio.sleep(0.05)
        # All of it written while node 1 was dead: two in-sync replicas are enough for acks=all.
        await wait_for(lambda: unpublished(runtime), lambda n: n == 0, timeout=120, every=0.5)
        await wait_for(lambda: _applied(runtime), lambda n: n >= total, timeout=120, every=0.5)
        await asyncio.to_thread(kafka_cluster.start_node, 1)
        # And once it is back, more events flow through all three brokers.
        async with runtime.sessions() as session, session.begin():
            await emit_probes(session, runtime.outbox, count=PER_ROUND, start=total)
        total += PER_ROUND
        await wait_for(lambda: _applied(runtime), lambda n: n >= total, timeout=120, every=0.5)
        got = await receipts(runtime)
        assert len(got) == total, "every event applied"
        assert set(got.values()) == {1}, "no event applied twice"
        assert await unpublished(runtime) == 0
        # Retries after the broker died may re-send a batch; the inbox must absorb it, so the topic holds at least
        # every event once.
        assert await end_offsets_total(kafka_cluster.bootstrap, PROBE) >= total
    finally:
        await asyncio.to_thread(kafka_cluster.start_node, 1)
        await runtime.stop()


async def _applied(runtime: ServiceRuntime) -> int:
    return sum((await receipts(runtime)).values())
