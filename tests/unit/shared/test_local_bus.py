"""The in-process bus: a consumer leaving the bus waits for the batch another service's relay is applying in it."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from shared.bus.base import IncomingRecord, OutgoingMessage
from shared.bus.local import LocalBus
from shared.inbox.consumer import EventConsumer


class SlowConsumer:
    """Applies a batch only when the test lets it (an open transaction, as far as the bus can tell)."""

    service = "verification"
    topics = ("registry.household.v1",)

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.applied: list[bytes] = []

    async def process(self, records: list[IncomingRecord]) -> list[Any]:
        self.started.set()
        await self.release.wait()
        self.applied += [r.value for r in records]
        return []

    async def record_dead(self, dead: list[Any]) -> None:
        assert dead == []


async def test_unsubscribe_returns_only_after_the_batch_in_flight() -> None:
    bus, slow = LocalBus(), SlowConsumer()
    consumer = cast(EventConsumer, slow)
    bus.subscribe(consumer)
    message = OutgoingMessage(topic="registry.household.v1", key=b"hh-1", value=b"{}")
    publishing = asyncio.create_task(bus.publish([message]))
    await slow.started.wait()
    leaving = asyncio.create_task(bus.unsubscribe(consumer))
    await asyncio.sleep(0.05)
    assert not leaving.done(), "the consumer's owner would dispose its engine under the running batch"
    slow.release.set()
    await asyncio.wait_for(leaving, timeout=5)
    await publishing
    assert slow.applied == [b"{}"]
    # Gone from the bus: the next batch does not reach it, and leaving again does not wait.
    await bus.publish([message])
    assert slow.applied == [b"{}"]
    await asyncio.wait_for(bus.unsubscribe(consumer), timeout=1)
