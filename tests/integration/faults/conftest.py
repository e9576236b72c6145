"""Fault tests run on their own durable PostgreSQL cluster (synchronous_commit=on), which they stop and crash."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from services.registry.app import definition as registry_definition
from services.registry.settings import RegistrySettings
from shared.auth.tokens import ensure_dev_keys
from shared.runtime.service import ServiceRuntime
from tests.support.durable_pg import DurablePostgres, remove_durable_postgres, start_durable_postgres
from tests.support.infra import Infra, create_database


@pytest.fixture(scope="module")
def durable_pg(infra: Infra) -> Iterator[DurablePostgres]:
    """One durable cluster for the module's tests."""
    cluster = start_durable_postgres(infra.kafka_bootstrap)
    yield cluster
    remove_durable_postgres(cluster)


@pytest.fixture
async def registry_runtime(durable_pg: DurablePostgres, tmp_path: Path) -> AsyncIterator[ServiceRuntime]:
    """The registry's runtime (no workers started) on a fresh database of the durable cluster, migrated."""
    durable_pg.start()  # a test that failed half-way may have left it stopped
    infra = durable_pg.infra
    name = await create_database(infra, "fault")
    ensure_dev_keys(tmp_path)
    values: dict[str, Any] = {
        "database_url": infra.service_url("registry", name),
        "bus": "kafka",
        "kafka_bootstrap": infra.kafka_bootstrap,
        "consumer_group": f"registry-{name}",
        "data_dir": tmp_path,
        "consumer_retry_backoff_ms": 20,
        "consumer_max_retries": 2,
    }
    runtime = ServiceRuntime(registry_definition(RegistrySettings(**values)))
    await runtime.migrate()
    yield runtime
    durable_pg.start()
    await runtime.stop()
