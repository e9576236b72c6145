"""The in-process bus of the embedded mode: the relay hands events straight to local consumers."""

from __future__ import annotations

from collections import defaultdict
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

    def subscribe(self, consumer: EventConsumer) -> None:
        """Deliver the consumer's topics to it from now on."""
        for topic in consumer.topics:
            if consumer not in self._subscribers[topic]:
                self._subscribers[topic].append(consumer)

    def unsubscribe(self, consumer: EventConsumer) -> None:
        """Stop delivering to the consumer."""
        for subs in self._subscribers.values():
            if consumer in subs:
                subs.remove(consumer)

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Apply the batch in each subscriber, in order; failures go to that subscriber's dead letters."""
        by_consumer: dict[int, tuple[EventConsumer, list[IncomingRecord]]] = {}
        for m in messages:
            for consumer in self._subscribers.get(m.topic, ()):
                by_consumer.setdefault(id(consumer), (consumer, []))[1].append(
                    IncomingRecord(topic=m.topic, value=m.value, key=m.key)
                )
        for consumer, records in by_consumer.values():
            dead = await consumer.process(records)
            for d in dead:
                DEAD_LETTERS.labels(consumer.service, d.record.topic).inc()
            await consumer.record_dead(dead)

    async def ping(self) -> bool:
        """The in-process bus is always reachable."""
        return True
