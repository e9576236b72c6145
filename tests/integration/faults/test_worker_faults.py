"""Faults of the chaos run (issue 16), each reproduced on a durable cluster that the test stops or crashes:
the relay outlives an unreachable database (1), a database outage dead-letters nothing healthy (2), the consumer
outlives a database that is down while it records a dead letter (3), acknowledged commits survive a crash (5)."""

from __future__ import annotations

import asyncio
import uuid
from typing import TypeVar

import asyncpg
import pytest
from sqlalchemy import func, select

from shared.bus.base import IncomingRecord
from shared.bus.kafka import KafkaConsumerRunner
from shared.events.envelope import envelope_json_from_row
from shared.events.topics import PROBE
from shared.outbox.relay import OutboxRelay
from shared.runtime.probe import emit_probes
from shared.runtime.service import ServiceRuntime
from tests.support.durable_pg import DurablePostgres
from tests.support.kafka import CountingKafkaPublisher
from tests.support.runtimes import receipts, unpublished
from tests.support.waiting import wait_for

pytestmark = pytest.mark.infra

T = TypeVar("T")


async def _probe_records(runtime: ServiceRuntime, count: int) -> list[IncomingRecord]:
    """Probe events written to the outbox, as the consumer would receive them from the broker."""
    async with runtime.sessions() as session, session.begin():
        await emit_probes(session, runtime.outbox, count=count)
    table = runtime.definition.messaging.outbox
    async with runtime.sessions() as session:
        rows = (await session.execute(select(table).order_by(table.c.id))).all()
    return [
        IncomingRecord(topic=PROBE, value=envelope_json_from_row(r, "registry"), partition=0, offset=i)
        for i, r in enumerate(rows)
    ]


async def test_fault1_relay_survives_database_unreachable_at_reconnect(
    registry_runtime: ServiceRuntime, durable_pg: DurablePostgres
) -> None:
    runtime = registry_runtime
    publisher = CountingKafkaPublisher(durable_pg.kafka_bootstrap)
    await publisher.start()
    relay = OutboxRelay(
        source="registry",
        engine=runtime.engine,
        table=runtime.definition.messaging.outbox,
        publisher=publisher,
        poll_interval_s=0.1,
    )
    task = asyncio.create_task(relay.run())
    try:
        await wait_for(lambda: _value(relay.is_leader), lambda ok: ok)
        durable_pg.stop()
        # It lost its lock connection and now fails to connect and to take the lock, again and again.
        await wait_for(lambda: _value(relay.health.failures), lambda n: n >= 3, timeout=30)
        assert not task.done()
        assert relay.health.state == "retrying"
        durable_pg.start()
        await wait_for(lambda: _value(relay.is_leader), lambda ok: ok, timeout=30)
        async with runtime.sessions() as session, session.begin():
            await emit_probes(session, runtime.outbox, count=3)
        await wait_for(lambda: unpublished(runtime), lambda n: n == 0, timeout=30)
        assert [m.key for m in publisher.messages] == [f"probe-{i}".encode() for i in range(3)]
        assert relay.health.state == "running"
    finally:
        durable_pg.start()
        relay.stop()
        await asyncio.gather(task, return_exceptions=True)
        await publisher.stop()


async def test_fault2_database_outage_dead_letters_nothing_healthy(
    registry_runtime: ServiceRuntime, durable_pg: DurablePostgres
) -> None:
    runtime = registry_runtime
    records = await _probe_records(runtime, 5)
    consumer = runtime.make_consumer()
    assert consumer is not None
    durable_pg.stop()
    task = asyncio.create_task(consumer.process(records))
    try:
        # Well past max_retries (2) failed attempts: before the fix the events were dead-lettered by now.
        await wait_for(lambda: _value(task.done() or consumer.health.failures >= 6), lambda ok: ok, timeout=60)
        assert not task.done(), f"gave up during the outage: {task.result()}"
        durable_pg.start()
        dead = await asyncio.wait_for(task, 60)
    finally:
        durable_pg.start()
    assert dead == []
    got = await receipts(runtime)
    assert sorted(got) == sorted(str(_event_id(r)) for r in records)
    assert set(got.values()) == {1}
    assert await _dead_letters(runtime) == 0


async def test_fault3_consumer_survives_database_down_while_recording_a_dead_letter(
    registry_runtime: ServiceRuntime, durable_pg: DurablePostgres
) -> None:
    runtime = registry_runtime
    consumer = runtime.make_consumer()
    assert consumer is not None
    runner = KafkaConsumerRunner(
        consumer, bootstrap=durable_pg.kafka_bootstrap, group_id=f"fault3-{uuid.uuid4().hex[:8]}"
    )
    await runner.start()
    poison = IncomingRecord(topic=PROBE, value=b"not an envelope", key=b"poison", partition=0, offset=0)
    durable_pg.stop()
    task = asyncio.create_task(runner.handle([poison]))
    try:
        await wait_for(lambda: _value(task.done() or consumer.health.failures >= 3), lambda ok: ok, timeout=60)
        assert not task.done(), f"consumer ended: {task.exception()!r}"
        durable_pg.start()
        await asyncio.wait_for(task, 60)
    finally:
        durable_pg.start()
        await runner.stop()
    assert await _dead_letters(runtime) == 1


async def test_fault5_acknowledged_commits_survive_a_crash(
    registry_runtime: ServiceRuntime, durable_pg: DurablePostgres
) -> None:
    runtime = registry_runtime
    admin = await asyncpg.connect(durable_pg.infra.admin_url("postgres"))
    try:
        assert await admin.fetchval("SHOW synchronous_commit") == "on"
        assert await admin.fetchval("SHOW fsync") == "on"
    finally:
        await admin.close()
    for i in range(50):
        async with runtime.sessions() as session, session.begin():
            await emit_probes(session, runtime.outbox, count=1, start=i)
    durable_pg.crash()
    durable_pg.start()
    await runtime.engine.dispose()  # connections of the crashed server are gone
    assert await unpublished(runtime) == 50


async def _value(value: T) -> T:
    return value


def _event_id(record: IncomingRecord) -> str:
    import json

    return str(json.loads(record.value)["event_id"])


async def _dead_letters(runtime: ServiceRuntime) -> int:
    table = runtime.definition.messaging.dead_letter
    async with runtime.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())
