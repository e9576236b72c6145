"""The same backbone in embedded mode: SQLite files and the in-process bus, over the same outbox/inbox tables."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from services.registry.app import definition as registry_definition
from services.registry.settings import RegistrySettings
from services.verification.app import definition as verification_definition
from services.verification.households.models import Household
from services.verification.settings import VerificationSettings
from shared.bus.base import OutgoingMessage
from shared.bus.local import LocalBus
from shared.events.envelope import EventEnvelope, utcnow
from shared.events.household import DataStatus
from shared.events.topics import PROBE, REGISTRY_HOUSEHOLD
from shared.runtime.probe import PROBE_EVENT, emit_probes
from shared.runtime.service import ServiceRuntime
from tests.support.runtimes import count_households, emit_household, receipts, unpublished
from tests.support.waiting import wait_for


@pytest.fixture
async def embedded(sqlite_settings: Any) -> AsyncIterator[tuple[LocalBus, ServiceRuntime, ServiceRuntime]]:
    """Registry and verification on SQLite, joined by one in-process bus, workers running."""
    bus = LocalBus()
    registry = ServiceRuntime(registry_definition(sqlite_settings(RegistrySettings)), bus=bus)
    verification = ServiceRuntime(verification_definition(sqlite_settings(VerificationSettings)), bus=bus)
    for rt in (registry, verification):
        await rt.migrate()
    await verification.start_workers(relay=False)
    await registry.start_workers(consume=False)
    yield bus, registry, verification
    await registry.stop()
    await verification.stop()


async def test_embedded_round_trip_updates_read_model(
    embedded: tuple[LocalBus, ServiceRuntime, ServiceRuntime],
) -> None:
    _, registry, verification = embedded
    assert registry.settings.resolved_database_url.startswith("sqlite")
    ids = [f"hh-{uuid.uuid4().hex[:8]}" for _ in range(10)]
    for hid in ids:
        await emit_household(registry, hid, 1)
    await wait_for(lambda: count_households(verification, ids), lambda n: n == 10)
    await emit_household(registry, ids[0], 3, status=DataStatus.INACTIVE)
    await emit_household(registry, ids[0], 2, status=DataStatus.NEEDS_VERIFICATION)
    await wait_for(lambda: unpublished(registry), lambda n: n == 0)
    async with verification.sessions() as s:
        row = await s.get(Household, ids[0])
    assert row is not None
    assert (row.version, row.data_status) == (3, "inactive")


async def test_embedded_probe_pipeline_and_duplicate_delivery(
    embedded: tuple[LocalBus, ServiceRuntime, ServiceRuntime],
) -> None:
    bus, registry, verification = embedded
    async with registry.sessions() as session, session.begin():
        await emit_probes(session, registry.outbox, count=50)
    await wait_for(lambda: unpublished(registry), lambda n: n == 0)
    got = await wait_for(lambda: receipts(verification), lambda r: len(r) == 50)
    assert set(got.values()) == {1}

    now = utcnow()
    env = EventEnvelope(
        event_type=PROBE_EVENT,
        source="test",
        subject="probe-x",
        aggregate_version=1,
        occurred_at=now,
        recorded_at=now,
        data={"sequence": 99},
    )
    message = OutgoingMessage(topic=PROBE, key=b"probe-x", value=env.to_bytes())
    await bus.publish([message, message])  # twice in one batch
    await bus.publish([message])  # and once more later
    got = await receipts(verification)
    assert got[str(env.event_id)] == 1


async def test_embedded_poison_event_is_dead_lettered_without_blocking(
    embedded: tuple[LocalBus, ServiceRuntime, ServiceRuntime],
) -> None:
    _, registry, verification = embedded
    hid = f"hh-{uuid.uuid4().hex[:8]}"
    async with registry.sessions() as session, session.begin():
        poison = await registry.outbox.add(
            session,
            topic=REGISTRY_HOUSEHOLD,
            event_type="household.updated",
            subject=hid,
            aggregate_version=1,
            data={"household_id": hid},
        )
    await emit_household(registry, hid, 2)
    await wait_for(lambda: count_households(verification, [hid]), lambda n: n == 1)
    dead = verification.definition.messaging.dead_letter
    async with verification.sessions() as s:
        rows = (await s.execute(select(dead.c.event_id, dead.c.error))).all()
    assert [r.event_id for r in rows] == [str(poison)]
    assert "invalid household payload" in rows[0].error

    # Ops replay: still invalid, so it stays dead (and is not applied by accident).
    consumer = verification.consumer
    assert consumer is not None
    assert await consumer.replay_dead_letters() == (0, 1)
