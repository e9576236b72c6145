"""A consumer group rebalance in the middle of a poll: the member that lost partitions does not go on applying the
batches it had already fetched for them (the chaos run saw big batches applied twice, once by each member)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka import TopicPartition
from sqlalchemy import func, select

from services.registry.app import definition as registry_definition
from services.registry.settings import RegistrySettings
from shared.bus.base import IncomingRecord
from shared.bus.kafka import KafkaConsumerRunner, KafkaPublisher
from shared.inbox.consumer import DeadLetter, EventConsumer
from shared.outbox.relay import OutboxRelay
from shared.runtime.probe import emit_probes
from shared.runtime.service import ServiceRuntime
from tests.support.waiting import wait_for

pytestmark = pytest.mark.infra

PROBES = 120


class _Watched:
    """Instrumentation around a real consumer: which partitions each `process` call applied, and a pause."""

    def __init__(self, consumer: EventConsumer, runner: list[KafkaConsumerRunner]) -> None:
        self.runner = runner
        self.armed = False
        self.hold = asyncio.Event()
        self.held = asyncio.Event()
        self.after_release: list[tuple[TopicPartition, bool]] = []
        real = consumer.process

        async def process(records: Sequence[IncomingRecord]) -> list[DeadLetter]:
            tp = TopicPartition(records[0].topic, records[0].partition)
            if self.armed and not self.held.is_set():
                self.held.set()
                await self.hold.wait()  # the rebalance happens while this first batch of the poll is applied
            elif self.held.is_set():
                self.after_release.append((tp, tp in self.runner[0].assignment()))
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


async def test_a_member_does_not_apply_batches_of_partitions_it_lost(pg_settings: Any) -> None:
    group = f"rebalance-{uuid.uuid4().hex[:8]}"
    settings = pg_settings(RegistrySettings, consumer_group=group)
    runtime = ServiceRuntime(registry_definition(settings))
    await runtime.migrate()
    first_consumer = runtime.make_consumer()
    second_consumer = runtime.make_consumer()
    assert first_consumer is not None
    assert second_consumer is not None
    holder: list[KafkaConsumerRunner] = []
    watched = _Watched(first_consumer, holder)
    first = KafkaConsumerRunner(first_consumer, bootstrap=settings.kafka_bootstrap, group_id=group)
    holder.append(first)
    second = KafkaConsumerRunner(second_consumer, bootstrap=settings.kafka_bootstrap, group_id=group)
    kafka = first._kafka  # the real aiokafka consumer, paused below so one poll brings every partition at once
    tasks: list[asyncio.Task[None]] = []
    try:
        await first.start()
        tasks.append(asyncio.create_task(first.run()))
        # Round 1: the only member takes every partition and catches up with the topic.
        await _publish_probes(runtime, settings.kafka_bootstrap, 0)

        async def caught_up() -> tuple[int, int]:
            return len(first.assignment()), first.lag()

        await wait_for(caught_up, lambda v: v[0] > 1 and v[1] == 0, timeout=60)
        owned = first.assignment()
        # Round 2 arrives while the member is paused, so its next poll holds a batch for every partition.
        kafka.pause(*owned)
        await _publish_probes(runtime, settings.kafka_bootstrap, PROBES)
        watched.armed = True
        kafka.resume(*owned)
        await asyncio.wait_for(watched.held.wait(), 60)

        # A second member joins while the first is applying the first batch of that poll.
        await second.start()
        tasks.append(asyncio.create_task(second.run()))

        async def first_owns() -> frozenset[TopicPartition]:
            return first.assignment()

        await wait_for(first_owns, lambda now: 0 < len(now) < len(owned), timeout=60)
        watched.hold.set()

        table = runtime.definition.messaging.probe_receipt

        async def ours() -> int:
            async with runtime.sessions() as session:
                stmt = select(func.count()).select_from(table).where(table.c.sequence >= PROBES)
                return int((await session.execute(stmt)).scalar_one())

        await wait_for(ours, lambda n: n >= PROBES, timeout=60)
        lost = [tp for tp, still_owned in watched.after_release if not still_owned]
        assert lost == [], f"applied batches of partitions it no longer owned: {lost}"
    finally:
        for runner in (first, second):
            await runner.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await runtime.stop()
