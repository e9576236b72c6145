"""Household events delivered through the real broker update disbursement's read model once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from services.disbursement.app import create_app
from services.disbursement.settings import DisbursementSettings
from shared.events.topics import REGISTRY_HOUSEHOLD, VERIFICATION_OUTCOME
from tests.integration.disbursement.conftest import Service
from tests.integration.disbursement.support import household_envelope, users
from tests.support.api import running
from tests.support.kafka import start_group_at_end
from tests.support.waiting import wait_for

pytestmark = pytest.mark.infra


async def test_household_events_through_kafka_update_the_read_model_once(
    pg_settings: Callable[..., Any],
) -> None:
    settings = pg_settings(DisbursementSettings, auto_migrate=True)
    await start_group_at_end(
        settings.kafka_bootstrap, settings.consumer_group, [REGISTRY_HOUSEHOLD, VERIFICATION_OUTCOME]
    )
    app = create_app(settings)
    async with running(app) as client:
        svc = Service(client=client, runtime=app.state.runtime, users=users(settings.data_dir))
        first = household_envelope("k1", 1, desil=2)
        newer = household_envelope("k1", 3, desil=4, members=7)
        stale = household_envelope("k1", 2, desil=9)
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, enable_idempotence=True)
        await producer.start()
        try:
            for env in (first, first, newer, stale, newer):  # duplicates and a late, older version
                await producer.send_and_wait(REGISTRY_HOUSEHOLD, env.to_bytes(), key=b"k1")
        finally:
            await producer.stop()

        await wait_for(lambda: svc.scalar("SELECT count(*) FROM inbox WHERE subject = 'k1'"), lambda n: n == 3)
        row = (await svc.rows("SELECT version, desil, members FROM household_status WHERE household_id = 'k1'"))[0]
        assert tuple(row) == (3, 4, 7)
        assert await svc.scalar("SELECT count(*) FROM dead_letter") == 0
