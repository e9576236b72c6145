"""Fixtures of the verification integration tests: the app on a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.verification.app import create_app
from services.verification.settings import VerificationSettings
from tests.integration.verification.helpers import Api
from tests.support.api import running


@pytest.fixture
async def api(pg_settings: Any) -> AsyncIterator[Api]:
    """The verification app on its own database, migrated, without relay and consumer (API-only tests)."""
    settings = pg_settings(VerificationSettings, auto_migrate=True, run_workers=False)
    app = create_app(settings)
    async with running(app) as client:
        yield Api(client, settings.data_dir, app)
