"""Fixtures of the verification integration tests: the app on a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.verification.app import create_app
from services.verification.settings import VerificationSettings
from shared.events.topics import DISBURSEMENT_PAYMENT, PROBE, REGISTRY_HOUSEHOLD
from tests.integration.verification.helpers import Api
from tests.support.api import running
from tests.support.infra import Infra
from tests.support.kafka import start_group_at_end


@pytest.fixture
async def api(pg_settings: Any) -> AsyncIterator[Api]:
    """The verification app on its own database, migrated, without relay and consumer (API-only tests)."""
    settings = pg_settings(VerificationSettings, auto_migrate=True, run_workers=False)
    app = create_app(settings)
    async with running(app) as client:
        yield Api(client, settings.data_dir, app)


@pytest.fixture
async def live(pg_settings: Any, infra: Infra) -> AsyncIterator[Api]:
    """The app with its relay, Kafka consumer and scheduler running, the group starting at the topics' end."""
    settings = pg_settings(VerificationSettings, auto_migrate=True)
    await start_group_at_end(
        infra.kafka_bootstrap, settings.consumer_group, [REGISTRY_HOUSEHOLD, DISBURSEMENT_PAYMENT, PROBE]
    )
    app = create_app(settings)
    async with running(app) as client:
        yield Api(client, settings.data_dir, app)
