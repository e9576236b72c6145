"""The relay reads the next batch while the broker acknowledges the current one, without changing what it sends:
every unpublished row once, in id order, and the read-ahead leaves out only the batch in flight (a row that
committed late with a lower id still goes first)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from services.registry.app import definition as registry_definition
from services.registry.settings import RegistrySettings
from shared.bus.local import LocalBus
from shared.events.envelope import EventEnvelope, envelope_json_from_row
from shared.outbox.relay import OutboxRelay
from shared.runtime.probe import emit_probes
from shared.runtime.service import ServiceRuntime
from tests.support.infra import Infra
from tests.support.kafka import CountingKafkaPublisher
from tests.support.runtimes import unpublished


async def _runtime(settings: RegistrySettings) -> ServiceRuntime:
    runtime = ServiceRuntime(registry_definition(settings), bus=LocalBus())
    await runtime.migrate()
    return runtime


@pytest.mark.infra
async def test_read_ahead_sends_every_row_once_in_id_order(pg_settings: Any, infra: Infra) -> None:
    runtime = await _runtime(pg_settings(RegistrySettings))
    publisher = CountingKafkaPublisher(infra.kafka_bootstrap)
    await publisher.start()
    try:
        async with runtime.sessions() as session, session.begin():
            await emit_probes(session, runtime.outbox, count=23)
        table = runtime.definition.messaging.outbox
        relay = OutboxRelay(source="registry", engine=runtime.engine, table=table, publisher=publisher, batch_size=5)
        sent = [await relay.relay_once() for _ in range(6)]
        assert sent == [5, 5, 5, 5, 3, 0]
        assert [m.key for m in publisher.messages] == [f"probe-{i}".encode() for i in range(23)]
        assert await unpublished(runtime) == 0
    finally:
        await publisher.stop()
        await runtime.stop()


async def _leaves_out_only_the_batch_in_flight(settings: RegistrySettings) -> None:
    runtime = await _runtime(settings)
    try:
        table = runtime.definition.messaging.outbox
        async with runtime.sessions() as session, session.begin():
            await emit_probes(session, runtime.outbox, count=8)
        async with runtime.sessions() as session, session.begin():
            ids = list((await session.execute(select(table.c.id).order_by(table.c.id))).scalars())
            # The first row is published already; rows 3 and 4 are the batch "in flight".
            await session.execute(update(table).where(table.c.id == ids[0]).values(published_at=table.c.recorded_at))
        relay = OutboxRelay(source="registry", engine=runtime.engine, table=table, publisher=LocalBus(), batch_size=3)
        ahead = await relay._read([ids[3], ids[4]])
        assert [row_id for row_id, _ in ahead] == [ids[1], ids[2], ids[5]]
    finally:
        await runtime.stop()


async def test_the_read_ahead_leaves_out_only_the_batch_in_flight_on_sqlite(sqlite_settings: Any) -> None:
    await _leaves_out_only_the_batch_in_flight(sqlite_settings(RegistrySettings))


@pytest.mark.infra
async def test_the_read_ahead_leaves_out_only_the_batch_in_flight_on_postgresql(pg_settings: Any) -> None:
    await _leaves_out_only_the_batch_in_flight(pg_settings(RegistrySettings))


@pytest.mark.infra
async def test_the_envelope_postgresql_writes_is_the_one_python_writes(pg_settings: Any) -> None:
    """On PostgreSQL the relay has the database build each envelope; consumers must read the same event."""
    runtime = await _runtime(pg_settings(RegistrySettings))
    try:
        table = runtime.definition.messaging.outbox
        at = datetime(2026, 12, 6, 7, 0, 0, tzinfo=UTC)  # whole seconds: Python omits the fraction
        async with runtime.sessions() as session, session.begin():
            await emit_probes(session, runtime.outbox, count=2)
            await session.execute(
                insert(table).values(
                    event_id=str(uuid.uuid4()),
                    topic="registry.household.v1",
                    event_type="household.updated",
                    subject="fam-1",
                    aggregate_version=7,
                    occurred_at=at,
                    recorded_at=at + timedelta(microseconds=120),
                    correlation_id="req-1",
                    causation_id=str(uuid.uuid4()),
                    data='{"nama":"Siti Rahmah","alamat":"Jl. Nipah \\"7\\"","desil":null}',
                )
            )
        relay = OutboxRelay(source="registry", engine=runtime.engine, table=table, publisher=LocalBus())
        built = await relay._read(())
        async with runtime.sessions() as session:
            rows = (await session.execute(select(table).order_by(table.c.id))).all()
        assert len(built) == len(rows) == 3
        for (row_id, message), row in zip(built, rows, strict=True):
            assert row_id == row.id
            assert (message.topic, message.key) == (row.topic, row.subject.encode())
            ours = EventEnvelope.from_bytes(message.value)
            assert ours == EventEnvelope.from_bytes(envelope_json_from_row(row, "registry"))
            assert json.loads(message.value)["data"] == json.loads(row.data)
        assert EventEnvelope.from_bytes(built[2][1].value).occurred_at == at
    finally:
        await runtime.stop()
