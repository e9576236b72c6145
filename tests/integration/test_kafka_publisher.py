"""The relay's publisher builds record batches itself: each key must land where `send` would put it, in order."""

from __future__ import annotations

import uuid

import pytest

from shared.bus.base import OutgoingMessage
from shared.bus.kafka import KafkaPublisher, make_producer
from shared.events.topics import PROBE
from tests.support.infra import Infra
from tests.support.kafka import read_all

pytestmark = pytest.mark.infra


async def test_batches_keep_the_partition_of_each_key_and_the_order_per_key(infra: Infra) -> None:
    run = uuid.uuid4().hex[:8]
    keys = [f"fam-{run}-{i % 37}".encode() for i in range(3000)]  # several full batches per partition
    messages = [
        OutgoingMessage(PROBE, key, f'{{"run":"{run}","n":{n},"pad":"{"x" * 200}"}}'.encode())
        for n, key in enumerate(keys)
    ]
    publisher = KafkaPublisher(infra.kafka_bootstrap, client_id="publisher-test")
    await publisher.start()
    try:
        await publisher.publish(messages)
    finally:
        await publisher.stop()
    mine = [r for r in await read_all(infra.kafka_bootstrap, PROBE) if run.encode() in (r.value or b"")]  # type: ignore[attr-defined]
    assert len(mine) == len(messages)
    reference = make_producer(infra.kafka_bootstrap, "partition-reference")
    await reference.start()
    try:
        await reference.partitions_for(PROBE)  # its metadata, as `send` waits for
        for r in mine:
            assert r.partition == reference._partition(PROBE, None, r.key, r.value, r.key, r.value)  # type: ignore[attr-defined]
    finally:
        await reference.stop()
    per_key: dict[bytes, list[int]] = {}
    for r in sorted(mine, key=lambda r: (r.partition, r.offset)):  # type: ignore[attr-defined]
        per_key.setdefault(r.key, []).append(int(r.value.split(b'"n":')[1].split(b",")[0]))  # type: ignore[attr-defined]
    assert all(ns == sorted(ns) for ns in per_key.values())
    assert sum(len(ns) for ns in per_key.values()) == len(messages)
