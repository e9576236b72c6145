"""Fixtures of the registry integration tests: the app on a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from shared.auth.principal import Role
from shared.runtime.service import ServiceRuntime
from tests.integration.registry.helpers import Api
from tests.support.api import running


@dataclass
class Registry:
    """A running registry app and ways to call it."""

    client: httpx.AsyncClient
    runtime: ServiceRuntime
    data_dir: Path

    def as_(self, role: Role, wilayah: str = "13.71") -> Api:
        """An API caller with this role and scope."""
        return Api(self.client, self.data_dir, role, wilayah)


@pytest.fixture
async def registry(pg_settings: Any) -> AsyncIterator[Registry]:
    """The registry on this test's PostgreSQL database, without relay/consumer (events stay in the outbox)."""
    settings = pg_settings(RegistrySettings, auto_migrate=True, run_workers=False)
    app = create_app(settings)
    async with running(app) as client:
        yield Registry(client, app.state.runtime, settings.data_dir)
