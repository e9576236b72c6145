"""The event backbone against the real PostgreSQL and Kafka: outbox → relay → Kafka → inbox → effect."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from services.registry.app import definition as registry_definition
from services.registry.settings import RegistrySettings
from services.verification.app import definition as verification_definition
from services.verification.households.models import Household
from services.verification.settings import VerificationSettings
from shared.events.envelope import EventEnvelope, utcnow
from shared.events.household import DataStatus
from shared.events.topics import PROBE, REGISTRY_HOUSEHOLD, dlq_name
from shared.runtime.probe import PROBE_EVENT, emit_probes
from shared.runtime.service import ServiceRuntime
from tests.support.infra import Infra, restart_kafka
from tests.support.kafka import end_offsets_total, read_all, start_group_at_end
from tests.support.runtimes import (
    count_households,
    emit_household,
    receipts,
    spawn_worker,
    unpublished,
)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.infra


@pytest.fixture
async def registry_rt(pg_settings: Any) -> AsyncIterator[ServiceRuntime]:
    """The registry's runtime on this test's database (not started)."""
    rt = ServiceRuntime(registry_definition(pg_settings(RegistrySettings)))
    await rt.migrate()
    yield rt
    await rt.stop()


@pytest.fixture
async def verification_rt(pg_settings: Any, infra: Infra) -> AsyncIterator[ServiceRuntime]:
    """Verification's runtime on this test's database, its consumer group starting at the topics' end."""
    settings = pg_settings(VerificationSettings)
    rt = ServiceRuntime(verification_definition(settings))
    # Every topic the consumer reads, so its first batch is this test's events and nothing older.
    await start_group_at_end(infra.kafka_bootstrap, settings.consumer_group, [*rt.definition.topics, PROBE])
    await rt.migrate()
    yield rt
    await rt.stop()


async def _outbox_event_ids(rt: ServiceRuntime) -> list[str]:
    t = rt.definition.messaging.outbox
    async with rt.sessions() as session:
        return list((await session.execute(select(t.c.event_id).order_by(t.c.id))).scalars())


async def test_round_trip_updates_read_model(registry_rt: ServiceRuntime, verification_rt: ServiceRuntime) -> None:
    await verification_rt.start_workers(relay=False)
    await registry_rt.start_workers(consume=False)
    ids = [f"hh-{uuid.uuid4().hex[:8]}" for _ in range(25)]
    for hid in ids:
        await emit_household(registry_rt, hid, 1, desil=2)
    await wait_for(lambda: count_households(verification_rt, ids), lambda n: n == len(ids))

    # A newer version wins; a stale one delivered afterwards changes nothing.
    await emit_household(registry_rt, ids[0], 3, status=DataStatus.INACTIVE, desil=7)
    await emit_household(registry_rt, ids[0], 2, status=DataStatus.NEEDS_VERIFICATION, desil=5)

    async def household() -> Household | None:
        async with verification_rt.sessions() as s:
            return await s.get(Household, ids[0])

    await wait_for(lambda: unpublished(registry_rt), lambda n: n == 0)
    row = await wait_for(household, lambda h: h is not None and h.version == 3)
    await asyncio.sleep(0.5)  # give the stale v2 time to arrive, then prove it did not win
    row = await household()
    assert row is not None
    assert (row.version, row.data_status, row.desil) == (3, "inactive", 7)
    assert row.kelurahan_code == "13.71.01.1001"


async def test_same_event_delivered_twice_has_one_effect(verification_rt: ServiceRuntime, infra: Infra) -> None:
    await verification_rt.start_workers(relay=False)
    now = utcnow()
    envelopes = [
        EventEnvelope(
            event_type=PROBE_EVENT,
            source="test",
            subject=f"probe-{i}",
            aggregate_version=i,
            occurred_at=now,
            recorded_at=now,
            data={"sequence": i},
        )
        for i in range(5)
    ]
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for _ in range(2):  # the whole batch twice, as a relay re-send after a crash would
            for env in envelopes:
                await producer.send_and_wait(PROBE, env.to_bytes(), key=env.subject.encode())
    finally:
        await producer.stop()
    wanted = {str(e.event_id) for e in envelopes}
    got = await wait_for(lambda: receipts(verification_rt), lambda r: wanted <= r.keys())
    await asyncio.sleep(0.5)  # the second copies are in the same partitions right behind the first ones
    got = await receipts(verification_rt)
    assert {k: v for k, v in got.items() if k in wanted} == dict.fromkeys(wanted, 1)


async def test_relay_killed_after_ack_resends_and_effects_stay_exactly_once(
    registry_rt: ServiceRuntime, verification_rt: ServiceRuntime, infra: Infra
) -> None:
    await verification_rt.start_workers(relay=False)
    async with registry_rt.sessions() as session, session.begin():
        await emit_probes(session, registry_rt.outbox, count=300)
    ids = await _outbox_event_ids(registry_rt)
    before = await end_offsets_total(infra.kafka_bootstrap, PROBE)

    crashing = spawn_worker("relay", "registry", registry_rt.settings, failpoints="relay_after_ack")
    assert await asyncio.to_thread(crashing.wait, 60) == -signal.SIGKILL
    # The broker has the batch, but the outbox still says unpublished: the crash window is real.
    assert await end_offsets_total(infra.kafka_bootstrap, PROBE) - before == 300
    assert await unpublished(registry_rt) == 300

    relay = spawn_worker("relay", "registry", registry_rt.settings)
    try:
        await wait_for(lambda: unpublished(registry_rt), lambda n: n == 0, timeout=60)
    finally:
        relay.send_signal(signal.SIGTERM)
        await asyncio.to_thread(relay.wait, 30)
    assert await end_offsets_total(infra.kafka_bootstrap, PROBE) - before == 600  # sent twice
    got = await wait_for(lambda: receipts(verification_rt), lambda r: set(ids) <= r.keys(), timeout=60)
    await asyncio.sleep(1.0)
    got = await receipts(verification_rt)
    assert {k: got[k] for k in ids} == dict.fromkeys(ids, 1)


async def test_consumer_killed_after_db_commit_applies_exactly_once(
    registry_rt: ServiceRuntime, verification_rt: ServiceRuntime
) -> None:
    settings = verification_rt.settings
    crashing = spawn_worker("consume", "verification", settings, failpoints="consumer_after_db_commit")
    await registry_rt.start_workers(consume=False)
    try:
        # Let the consumer join its group before the events exist, so its first batch is ours.
        await asyncio.sleep(3)
        async with registry_rt.sessions() as session, session.begin():
            await emit_probes(session, registry_rt.outbox, count=200)
        ids = await _outbox_event_ids(registry_rt)
        assert await asyncio.to_thread(crashing.wait, 60) == -signal.SIGKILL
    finally:
        if crashing.poll() is None:
            crashing.kill()
    applied_before_restart = await receipts(verification_rt)
    assert sum(applied_before_restart.values()) > 0  # the DB commit happened before the kill

    consumer = spawn_worker("consume", "verification", settings)
    try:
        await wait_for(lambda: receipts(verification_rt), lambda r: set(ids) <= r.keys(), timeout=60)
        await asyncio.sleep(1.0)
    finally:
        consumer.send_signal(signal.SIGTERM)
        await asyncio.to_thread(consumer.wait, 30)
    got = await receipts(verification_rt)
    assert {k: got[k] for k in ids} == dict.fromkeys(ids, 1)


async def test_poison_event_goes_to_dlq_and_does_not_block_partition(
    registry_rt: ServiceRuntime, verification_rt: ServiceRuntime, infra: Infra
) -> None:
    await verification_rt.start_workers(relay=False)
    await registry_rt.start_workers(consume=False)
    hid = f"hh-{uuid.uuid4().hex[:8]}"
    async with registry_rt.sessions() as session, session.begin():
        poison_id = await registry_rt.outbox.add(
            session,
            topic=REGISTRY_HOUSEHOLD,
            event_type="household.updated",
            subject=hid,
            aggregate_version=1,
            data={"household_id": hid, "kelurahan_code": "not-a-code"},
        )
    # Same key, so the same partition, right behind the poison event.
    await emit_household(registry_rt, hid, 2, desil=4)
    others = [f"hh-{uuid.uuid4().hex[:8]}" for _ in range(5)]
    for other in others:
        await emit_household(registry_rt, other, 1)

    await wait_for(lambda: count_households(verification_rt, [hid, *others]), lambda n: n == 6)
    dead = verification_rt.definition.messaging.dead_letter
    async with verification_rt.sessions() as s:
        rows = (await s.execute(select(dead).where(dead.c.event_id == str(poison_id)))).all()
    assert len(rows) == 1
    assert "invalid household payload" in rows[0].error

    records = await read_all(infra.kafka_bootstrap, dlq_name(REGISTRY_HOUSEHOLD))
    mine = [r for r in records if EventEnvelope.from_bytes(r.value).event_id == poison_id]  # type: ignore[attr-defined]
    assert len(mine) == 1
    headers = dict(mine[0].headers)  # type: ignore[attr-defined]
    assert b"invalid household payload" in headers["error"]
    assert headers["original_topic"] == REGISTRY_HOUSEHOLD.encode()


async def test_broker_restart_mid_stream_loses_nothing(
    registry_rt: ServiceRuntime, verification_rt: ServiceRuntime, infra: Infra
) -> None:
    if not infra.managed:
        pytest.fail("this test restarts the broker, so it needs the locally managed Kafka (unset TEPAT_TEST_*)")
    await verification_rt.start_workers(relay=False)
    await registry_rt.start_workers(consume=False)

    async def produce(start: int, count: int) -> None:
        for batch in range(start, start + count, 20):
            async with registry_rt.sessions() as session, session.begin():
                await emit_probes(session, registry_rt.outbox, count=20, start=batch)
            await asyncio.sleep(0.05)

    await produce(0, 200)
    writer = asyncio.create_task(produce(200, 400))
    await asyncio.to_thread(restart_kafka)
    await writer
    await produce(600, 200)
    ids = await _outbox_event_ids(registry_rt)
    assert len(ids) == 800
    await wait_for(lambda: unpublished(registry_rt), lambda n: n == 0, timeout=120)
    got = await wait_for(lambda: receipts(verification_rt), lambda r: set(ids) <= r.keys(), timeout=120)
    assert {k: got[k] for k in ids} == dict.fromkeys(ids, 1)


async def test_service_role_cannot_read_another_schema(
    registry_rt: ServiceRuntime, verification_rt: ServiceRuntime, infra: Infra, pg_database: str
) -> None:
    # Both schemas exist with tables (migrated by their own roles).
    conn = await asyncpg.connect(infra.service_url("registry", pg_database, driver="postgresql"))
    try:
        assert await conn.fetchval("SELECT count(*) FROM registry.outbox") == 0
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch("SELECT * FROM verification.household")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("INSERT INTO verification.inbox (event_id) VALUES ('x')")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TABLE public.leak (id int)")
    finally:
        await conn.close()
