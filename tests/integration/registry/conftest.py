"""Fixtures of the registry integration tests: the app on a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from shared.auth.principal import Role
from shared.auth.tokens import ensure_dev_keys
from shared.bus.local import LocalBus
from shared.runtime.service import ServiceRuntime
from tests.integration.registry.helpers import Api
from tests.support.api import running
from tests.support.infra import Infra, create_database, drop_database


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


@asynccontextmanager
async def registry_on(
    dialect: str, infra: Infra, data_dir: Path, **settings: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, ServiceRuntime, RegistrySettings]]:
    """The registry without workers on a fresh PostgreSQL database ("postgresql", dropped afterwards) or in the
    embedded mode ("sqlite"), for tests parametrised over both: its client, runtime and settings."""
    ensure_dev_keys(data_dir)
    common: dict[str, Any] = {"data_dir": data_dir, "run_workers": False, **settings}
    database = None
    if dialect == "postgresql":
        database = await create_database(infra, "t")
        config = RegistrySettings(
            **common, database_url=infra.service_url("registry", database), bus="kafka", auto_migrate=True
        )
        app = create_app(config)
    else:
        config = RegistrySettings(**common, bus="local")
        app = create_app(config, bus=LocalBus())
    try:
        async with running(app) as client:
            yield client, app.state.runtime, config
    finally:
        if database is not None:
            await drop_database(infra, database)
