"""Reading topics directly, to check what really went over the broker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.bus.base import OutgoingMessage
from shared.bus.kafka import KafkaPublisher


async def end_offsets_total(bootstrap: str, topic: str) -> int:
    """Sum of the end offsets of all partitions of a topic (how many records it ever received)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in partitions]
        offsets = await consumer.end_offsets(tps)
        return sum(offsets.values())
    finally:
        await consumer.stop()


async def read_all(bootstrap: str, topic: str, *, timeout: float = 10.0) -> list[object]:
    """Every record currently in a topic (reads from the beginning without a consumer group)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or set()]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[object] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            positions = [await consumer.position(tp) for tp in tps]
            if all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True)):
                break
            batch = await consumer.getmany(timeout_ms=500)
            for msgs in batch.values():
                records.extend(msgs)
            await asyncio.sleep(0)
        return records
    finally:
        await consumer.stop()


async def start_group_at_end(bootstrap: str, group_id: str, topics: list[str]) -> None:
    """Commit the current end of each topic for a new consumer group, so a test sees only its own events
    and a restarted consumer resumes from its committed offsets, exactly as in production."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or set()]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        await consumer.commit(dict(ends.items()))
    finally:
        await consumer.stop()


class CountingKafkaPublisher(KafkaPublisher):
    """The real Kafka publisher, remembering what it got acknowledged, so a test can tell relays apart."""

    def __init__(self, bootstrap: str) -> None:
        super().__init__(bootstrap, client_id="counting-test")
        self.messages: list[OutgoingMessage] = []

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Publish, then remember what was acknowledged."""
        await super().publish(messages)
        self.messages.extend(messages)
