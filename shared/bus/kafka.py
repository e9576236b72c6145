"""Apache Kafka through aiokafka: an idempotent publisher and a consumer runner with manual offsets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner

from shared import failpoints
from shared.bus.base import IncomingRecord, OutgoingMessage
from shared.events.topics import dlq_name
from shared.inbox.consumer import DeadLetter, EventConsumer
from shared.observability.metrics import CONSUMER_LAG, DEAD_LETTERS
from shared.runtime.retry import Backoff

log = logging.getLogger(__name__)


_PARTITIONER = DefaultPartitioner()


def make_producer(bootstrap: str, client_id: str) -> AIOKafkaProducer:
    """A producer that never duplicates on retry and waits for every in-sync replica."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        max_batch_size=256 * 1024,
        request_timeout_ms=30_000,
    )


class KafkaPublisher:
    """Publisher for the outbox relay."""

    def __init__(self, bootstrap: str, client_id: str) -> None:
        self._producer = make_producer(bootstrap, client_id)
        self._started = False

    async def start(self) -> None:
        """Connect to the cluster."""
        await self._producer.start()
        self._started = True

    async def stop(self) -> None:
        """Flush and disconnect."""
        if self._started:
            await self._producer.stop()
            self._started = False

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Send all messages and wait until the broker acknowledged each of them.

        Built into record batches here, one open batch per partition, each handed over whole when full and the rest
        at the end: a partition's messages keep their order, and the partition of a key is the one `send` would pick
        (the Java client's murmur2 over the topic's partitions). Per message this saves `send`'s coroutine,
        metadata wait, partition lists and future (about half of the relay's Python time)."""
        producer = self._producer
        partitions: dict[str, list[int]] = {}
        open_batches: dict[tuple[str, int], Any] = {}
        acks = []
        for m in messages:
            candidates = partitions.get(m.topic)
            if candidates is None:
                candidates = partitions[m.topic] = sorted(await producer.partitions_for(m.topic))
            partition = _PARTITIONER(m.key, candidates, candidates)
            batch = open_batches.get((m.topic, partition))
            if batch is None:
                batch = open_batches[(m.topic, partition)] = producer.create_batch()
            if batch.append(key=m.key, value=m.value, timestamp=None) is None:
                acks.append(await producer.send_batch(batch, m.topic, partition=partition))
                batch = open_batches[(m.topic, partition)] = producer.create_batch()
                if batch.append(key=m.key, value=m.value, timestamp=None) is None:
                    raise ValueError(f"event of {len(m.value)} bytes is larger than a record batch")
        for (topic, partition), batch in open_batches.items():
            batch.close()
            acks.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*acks)

    async def ping(self) -> bool:
        """True when the producer knows at least one broker."""
        try:
            await asyncio.wait_for(self._producer.client.force_metadata_update(), 5)
        except (KafkaError, TimeoutError):
            return False
        return bool(self._producer.client.cluster.brokers())


@dataclass(frozen=True)
class _Poll:
    """One poll: the partitions it read, its records (envelopes already parsed), and how many rebalances preceded it."""

    generation: int
    partitions: tuple[TopicPartition, ...]
    records: Sequence[IncomingRecord]


class _CommitOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, runner: KafkaConsumerRunner) -> None:
        self.runner = runner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # Wait for the poll being applied, so its offsets are committed before its partitions move: the new
        # owner then starts after it instead of applying the same records again.
        async with self.runner.applying:
            self.runner._generation += 1
            await self.runner.commit_pending()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        return None


class KafkaConsumerRunner:
    """Feeds a service's EventConsumer from Kafka; commits offsets only after the database commit."""

    def __init__(
        self,
        consumer: EventConsumer,
        *,
        bootstrap: str,
        group_id: str,
        max_records: int = 2000,
    ) -> None:
        self.consumer = consumer
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.max_records = max_records
        self._kafka = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group_id,
            client_id=f"{group_id}-consumer",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=max_records,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
        )
        self._dlq = make_producer(bootstrap, f"{group_id}-dlq")
        self._pending: dict[TopicPartition, int] = {}
        self._next: dict[TopicPartition, int] = {}  # next offset to process, per partition seen
        self._stopping = asyncio.Event()
        self._runs = 0
        # Held while a poll is applied (the rebalance listener waits for it, then commits its offsets).
        self.applying = asyncio.Lock()
        self._committing = asyncio.Lock()
        self._generation = 0  # rebalances so far: a poll taken before the latest one is stale

    async def start(self) -> None:
        """Connect and join the consumer group."""
        await self._dlq.start()
        await self._kafka.start()
        self._kafka.subscribe(list(self.consumer.topics), listener=_CommitOnRevoke(self))

    async def stop(self) -> None:
        """Commit what was processed and leave the group."""
        self._stopping.set()
        try:
            await self.commit_pending()
        finally:
            await self._kafka.stop()
            await self._dlq.stop()

    async def run(self) -> None:
        """Consume until stopped; after a restart, from the committed offsets (nothing in memory is trusted).

        Pipelined: the next poll is fetched and its envelopes parsed while the current one is applied, and a poll's
        offset commit runs while the next one is applied. Order is kept (polls are applied one after the other), and
        offsets are committed only after the database commit of their poll."""
        self._runs += 1
        if self._runs > 1:
            self._pending.clear()
            await self._kafka.seek_to_committed()
        polling = asyncio.create_task(self._poll())
        committing: asyncio.Task[None] | None = None
        try:
            while not self._stopping.is_set():
                poll = await polling
                polling = asyncio.create_task(self._poll())
                async with self.applying:
                    # One transaction for the whole poll (every partition): per-partition order is kept, and the
                    # database round trips of a commit are paid once per poll instead of once per partition.
                    if await self._apply(self._still_ours(poll)):
                        if committing is not None:
                            await committing  # one offset commit at a time, in order
                        committing = asyncio.create_task(self.commit_pending())
                self.consumer.health.ok()
                CONSUMER_LAG.labels(self.consumer.service).set(self.lag())
        finally:
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await polling
            if committing is not None:
                with contextlib.suppress(Exception):
                    await committing

    def _still_ours(self, poll: _Poll) -> Sequence[IncomingRecord]:
        """The records of a poll this member is still to apply."""
        if poll.generation != self._generation:
            # Polled before a rebalance: every partition was then assigned anew and is read again from its
            # committed offset, by this member or its new owner. Applying it here would only do the work twice.
            return []
        # Partitions a rebalance moved away since the poll belong to their new owner, who starts from the
        # committed offset: applying them here would only do the same work twice.
        owned = self._kafka.assignment()
        if all(tp in owned for tp in poll.partitions):
            return poll.records
        return [r for r in poll.records if TopicPartition(r.topic, r.partition) in owned]

    async def _poll(self) -> _Poll:
        batches = await self._kafka.getmany(timeout_ms=200, max_records=self.max_records)
        generation = self._generation  # read as the poll returns: a later rebalance makes it stale
        records = [r for msgs in batches.values() for r in self._records(msgs)]
        return _Poll(generation, tuple(batches), self.consumer.parse(records))

    def assignment(self) -> frozenset[TopicPartition]:
        """The partitions this member owns now."""
        return frozenset(self._kafka.assignment())

    def lag(self) -> int:
        """Records between what this runner processed and the end of its assigned partitions (as last fetched)."""
        total = 0
        for tp in self.assignment():
            end = self._kafka.highwater(tp)
            if end is not None and tp in self._next:
                total += max(0, end - self._next[tp])
        return total

    @staticmethod
    def _records(messages: Sequence[object]) -> list[IncomingRecord]:
        return [
            IncomingRecord(
                topic=m.topic,  # type: ignore[attr-defined]
                value=m.value,  # type: ignore[attr-defined]
                key=m.key,  # type: ignore[attr-defined]
                partition=m.partition,  # type: ignore[attr-defined]
                offset=m.offset,  # type: ignore[attr-defined]
                headers=tuple(m.headers or ()),  # type: ignore[attr-defined]
            )
            for m in messages
        ]

    async def handle(self, records: Sequence[IncomingRecord]) -> None:
        """Apply records (in order per partition), dead-letter what fails for good, then commit their offsets."""
        async with self.applying:
            await self._apply_and_commit(records)

    async def _apply_and_commit(self, records: Sequence[IncomingRecord]) -> None:
        if await self._apply(records):
            await self.commit_pending()

    async def _apply(self, records: Sequence[IncomingRecord]) -> bool:
        """Apply records and dead-letter what fails for good; their offsets are then pending (True if any)."""
        if not records:
            return False
        dead = await self.consumer.process(records)
        if dead:
            await self._dead_letter(dead)
        failpoints.hit("consumer_after_db_commit")
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            self._next[tp] = self._pending[tp] = record.offset + 1  # type: ignore[operator]
        return True

    async def _dead_letter(self, dead: Sequence[DeadLetter]) -> None:
        # Publish first, then record: a crash in between re-dead-letters the event, it never vanishes.
        backoff = Backoff(first=0.1, cap=10.0)
        while True:
            try:
                await self._publish_dead(dead)
                break
            except KafkaError as exc:
                self.consumer.health.failed(exc)
                log.warning("dead-letter topic unreachable (%s); retrying", exc)
                await backoff.wait()
        for d in dead:
            DEAD_LETTERS.labels(self.consumer.service, d.record.topic).inc()
            log.error("dead-lettered event %s from %s: %s", d.event_id, d.record.topic, d.error)
        await self.consumer.record_dead(dead)

    async def _publish_dead(self, dead: Sequence[DeadLetter]) -> None:
        futures = []
        for d in dead:
            headers = [
                ("error", d.error[:2000].encode()),
                ("original_topic", d.record.topic.encode()),
                ("original_partition", str(d.record.partition).encode()),
                ("original_offset", str(d.record.offset).encode()),
                ("attempts", str(d.attempts).encode()),
                ("consumer", self.group_id.encode()),
            ]
            futures.append(
                await self._dlq.send(dlq_name(d.record.topic), d.record.value, key=d.record.key, headers=headers)
            )
        await asyncio.gather(*futures)

    async def commit_pending(self) -> None:
        """Commit the offsets of everything already applied (on partitions this member still owns)."""
        async with self._committing:  # one at a time: a late commit must not move an offset backwards
            await self._commit_pending()

    async def _commit_pending(self) -> None:
        if not self._pending:
            return
        # A partition a rebalance moved away is its new owner's to commit: ours could move its offset backwards.
        owned = self._kafka.assignment()
        offsets = {tp: offset for tp, offset in self._pending.items() if tp in owned}
        self._pending = {}
        if not offsets:
            return
        try:
            await self._kafka.commit(offsets)
        except KafkaError:
            # Kept for the next commit (next poll, the rebalance listener, stop): dropping them would leave a
            # partition that gets no new records committed behind, and its next owner would redo that work.
            for tp, offset in offsets.items():
                self._pending[tp] = max(offset, self._pending.get(tp, offset))
            log.warning("offset commit failed; trying again with the next commit", exc_info=True)
