"""Shared fixtures: the real servers, a fresh PostgreSQL database per test, service runtimes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from shared.auth.tokens import ensure_dev_keys
from tests.support.infra import Infra, create_database, drop_database, start_infra


@pytest.fixture(scope="session")
def infra() -> Infra:
    """PostgreSQL and Kafka, real and running."""
    return start_infra()


@pytest.fixture
async def pg_database(infra: Infra) -> AsyncIterator[str]:
    """A new database, initialised by the same init.sql Compose uses, dropped after the test."""
    name = await create_database(infra, "t")
    yield name
    await drop_database(infra, name)


SettingsFactory = Callable[..., Any]


@pytest.fixture
def pg_settings(infra: Infra, pg_database: str, tmp_path: Path) -> SettingsFactory:
    """Build a service's settings for the distributed mode on this test's database and the real broker."""
    ensure_dev_keys(tmp_path)

    def make(settings_cls: type[Any], **overrides: Any) -> Any:
        name = settings_cls.service_name
        values: dict[str, Any] = {
            "database_url": infra.service_url(name, pg_database),
            "bus": "kafka",
            "kafka_bootstrap": infra.kafka_bootstrap,
            "consumer_group": f"{name}-{pg_database}",
            "data_dir": tmp_path,
            "relay_poll_interval_ms": 200,
            "consumer_retry_backoff_ms": 20,
        }
        values.update(overrides)
        return settings_cls(**values)

    return make


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> SettingsFactory:
    """Build a service's settings for the embedded mode (SQLite file, in-process bus)."""
    ensure_dev_keys(tmp_path)

    def make(settings_cls: type[Any], **overrides: Any) -> Any:
        values: dict[str, Any] = {"data_dir": tmp_path, "bus": "local", "consumer_retry_backoff_ms": 20}
        values.update(overrides)
        return settings_cls(**values)

    return make
