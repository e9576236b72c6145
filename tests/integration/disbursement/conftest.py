"""Fixtures of the disbursement integration tests: the service on PostgreSQL or SQLite, with its users."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from services.disbursement.app import create_app
from services.disbursement.settings import DisbursementSettings
from shared.runtime.service import ServiceRuntime
from tests.integration.disbursement.support import users
from tests.support.api import running


@dataclass
class Service:
    """A running disbursement service: HTTP client, runtime and bearer headers of the test users."""

    client: httpx.AsyncClient
    runtime: ServiceRuntime
    users: dict[str, dict[str, str]]

    async def scalar(self, sql: str, **params: Any) -> Any:
        """One value from the service's database."""
        async with self.runtime.sessions() as session:
            return (await session.execute(text(sql), params)).scalar()

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        """Rows from the service's database."""
        async with self.runtime.sessions() as session:
            return list((await session.execute(text(sql), params)).all())


async def _start(settings: DisbursementSettings) -> AsyncIterator[Service]:
    app = create_app(settings)
    async with running(app) as client:
        yield Service(client=client, runtime=app.state.runtime, users=users(settings.data_dir))


@pytest.fixture
async def pg_service(pg_settings: Callable[..., Any]) -> AsyncIterator[Service]:
    """The service on a fresh PostgreSQL database (workers off: events are fed through its inbox consumer)."""
    async for s in _start(pg_settings(DisbursementSettings, auto_migrate=True, run_workers=False)):
        yield s


@pytest.fixture
async def sqlite_service(sqlite_settings: Callable[..., Any]) -> AsyncIterator[Service]:
    """The service embedded on SQLite."""
    async for s in _start(sqlite_settings(DisbursementSettings, run_workers=False)):
        yield s
