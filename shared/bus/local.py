"""The in-process bus of the embedded mode: the relay hands events straight to local consumers."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Sequence

from shared.bus.base import IncomingRecord, OutgoingMessage
from shared.inbox.consumer import EventConsumer
from shared.observability.metrics import DEAD_LETTERS


class LocalBus:
    """Delivers each published batch to every subscribed consumer before the relay marks it published.

    Consumers keep their inbox and dead-letter tables exactly as with Kafka, so effects stay idempotent
    and failures stay visible; the outbox tables are the durable log.
    """

    def __init__(self) -> None:
        self._subscribers: dict[str, list[EventConsumer]] = defaultdict(list)
        # Batches each consumer is applying right now (another service's relay task runs them).
        self._busy: Counter[int] = Counter()
        # Set when the consumer's last batch in flight ends; made inside the running loop (tests build many loops).
        self._idle: dict[int, asyncio.Event] = {}

    def subscribe(self, consumer: EventConsumer) -> None:
        """Deliver the consumer's topics to it from now on."""
        for topic in consumer.topics:
            if consumer not in self._subscribers[topic]:
                self._subscribers[topic].append(consumer)

    async def unsubscribe(self, consumer: EventConsumer) -> None:
        """Stop delivering to the consumer, and return once no batch is being applied in it any more.

        Another service's relay may be inside this consumer's transaction right now: its owner disposes the
        database engine next, and a connection still in use would be left to the garbage collector."""
        for subs in self._subscribers.values():
            if consumer in subs:
                subs.remove(consumer)
        idle = self._idle.get(id(consumer))
        if idle is not None:
            await idle.wait()

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Apply the batch in each subscriber, in order; failures go to that subscriber's dead letters."""
        by_consumer: dict[int, tuple[EventConsumer, list[IncomingRecord]]] = {}
        for m in messages:
            for consumer in self._subscribers.get(m.topic, ()):
                by_consumer.setdefault(id(consumer), (consumer, []))[1].append(
                    IncomingRecord(topic=m.topic, value=m.value, key=m.key)
                )
        for consumer, records in by_consumer.values():
            key = id(consumer)
            if not self._busy[key]:
                self._idle[key] = asyncio.Event()
            self._busy[key] += 1
            try:
                dead = await consumer.process(records)
                for d in dead:
                    DEAD_LETTERS.labels(consumer.service, d.record.topic).inc()
                await consumer.record_dead(dead)
            finally:
                self._busy[key] -= 1
                if not self._busy[key]:
                    self._idle.pop(key).set()

    async def ping(self) -> bool:
        """The in-process bus is always reachable."""
        return True
