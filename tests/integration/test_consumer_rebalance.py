"""A consumer group rebalance in the middle of a poll: the poll being applied is finished and committed before its
partitions move, and nobody applies records of partitions it no longer owns, so no record is worked on twice (the
chaos run saw big batches applied by both members; the inbox kept the effects single, but the work doubled)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka import TopicPartition
from sqlalchemy import func, select

from services.registry.app import definition as registry_definition
from services.registry.settings import RegistrySettings
from shared.bus.base import IncomingRecord
from shared.bus.kafka import KafkaConsumerRunner, KafkaPublisher
from shared.events.topics import PROBE
from shared.inbox.consumer import DeadLetter, EventConsumer
from shared.outbox.relay import OutboxRelay
from shared.runtime.probe import emit_probes
from shared.runtime.service import ServiceRuntime
from tests.support.kafka import start_group_at_end
from tests.support.waiting import wait_for

pytestmark = pytest.mark.infra

PROBES = 120


class _Watched:
    """Instrumentation around real consumers: what each member was given, and a pause in the first one."""

    def __init__(self) -> None:
        self.armed = False
        self.hold = asyncio.Event()
        self.held = asyncio.Event()
        self.worked: Counter[tuple[str, int | None, int | None]] = Counter()
        self.not_owned: list[TopicPartition] = []

    def watch(self, consumer: EventConsumer, runner: KafkaConsumerRunner, *, pausing: bool) -> None:
        """Count what `consumer` is given; with `pausing`, hold its first call after arming until `hold` is set."""
        real = consumer.process

        async def process(records: Sequence[IncomingRecord]) -> list[DeadLetter]:
            owned = runner.assignment()
            self.not_owned += sorted(
                {TopicPartition(r.topic, r.partition) for r in records} - owned, key=lambda tp: (tp.topic, tp.partition)
            )
            if self.armed:
                self.worked.update((r.topic, r.partition, r.offset) for r in records)
            if pausing and self.armed and not self.held.is_set():
                self.held.set()
                await self.hold.wait()  # a second member joins while this poll is being applied
            return await real(records)

        consumer.process = process  # type: ignore[method-assign]


async def _publish_probes(runtime: ServiceRuntime, bootstrap: str, start: int) -> None:
    async with runtime.sessions() as session, session.begin():
        await emit_probes(session, runtime.outbox, count=PROBES, start=start)
    publisher = KafkaPublisher(bootstrap, client_id="rebalance-test-relay")
    await publisher.start()
    try:
        relay = OutboxRelay(
            source="registry",
            engine=runtime.engine,
            table=runtime.definition.messaging.outbox,
            publisher=publisher,
            batch_size=PROBES,
        )
        assert await relay.relay_once() == PROBES
    finally:
        await publisher.stop()


async def test_a_rebalance_mid_poll_works_on_no_record_twice(pg_settings: Any) -> None:
    group = f"rebalance-{uuid.uuid4().hex[:8]}"
    settings = pg_settings(RegistrySettings, consumer_group=group)
    runtime = ServiceRuntime(registry_definition(settings))
    await runtime.migrate()
    # The group starts at the end of every topic: only this test's records flow through it.
    await start_group_at_end(settings.kafka_bootstrap, group, [*runtime.definition.topics, PROBE])
    first_consumer = runtime.make_consumer()
    second_consumer = runtime.make_consumer()
    assert first_consumer is not None
    assert second_consumer is not None
    first = KafkaConsumerRunner(first_consumer, bootstrap=settings.kafka_bootstrap, group_id=group)
    second = KafkaConsumerRunner(second_consumer, bootstrap=settings.kafka_bootstrap, group_id=group)
    watched = _Watched()
    watched.watch(first_consumer, first, pausing=True)
    watched.watch(second_consumer, second, pausing=False)
    kafka = first._kafka  # the real aiokafka consumer, paused below so that one poll brings every partition
    tasks: list[asyncio.Task[None]] = []
    try:
        await first.start()
        tasks.append(asyncio.create_task(first.run()))
        # Round 1: the only member takes every partition and applies the round.
        await _publish_probes(runtime, settings.kafka_bootstrap, 0)
        table = runtime.definition.messaging.probe_receipt

        async def applied() -> int:
            async with runtime.sessions() as session:
                return int((await session.execute(select(func.count()).select_from(table))).scalar_one())

        await wait_for(applied, lambda n: n == PROBES, timeout=60)
        owned = first.assignment()
        # Round 2 arrives while the member is paused, so its next poll holds records of every partition.
        kafka.pause(*owned)
        await _publish_probes(runtime, settings.kafka_bootstrap, PROBES)
        watched.armed = True
        kafka.resume(*owned)
        await asyncio.wait_for(watched.held.wait(), 60)

        await second.start()
        tasks.append(asyncio.create_task(second.run()))
        # The rebalance waits for the poll being applied: partitions do not move under it.
        await asyncio.sleep(3)
        assert first.assignment() == owned
        watched.hold.set()

        async def first_owns() -> frozenset[TopicPartition]:
            return first.assignment()

        await wait_for(first_owns, lambda now: 0 < len(now) < len(owned), timeout=60)
        await wait_for(applied, lambda n: n == 2 * PROBES, timeout=60)
        assert len(watched.worked) == PROBES
        twice = [n for n in watched.worked.values() if n > 1]
        assert twice == [], f"{len(twice)} records were worked on by both members"
        assert watched.not_owned == []
    finally:
        for runner in (first, second):
            await runner.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await runtime.stop()
