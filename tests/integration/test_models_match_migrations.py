"""The tables the code declares are exactly the tables the migrations build, on PostgreSQL and on SQLite.

Queries are written against the declared tables while databases are built by the hand-written migrations: a
column, index or type that differs between the two would only surface as a failing query in production.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData

from services.disbursement.settings import DisbursementSettings
from services.registry.settings import RegistrySettings
from services.verification.settings import VerificationSettings
from shared.db.engine import create_engine
from shared.db.migrations import alembic_config, upgrade_to_head
from shared.settings import ServiceSettings

SERVICES: dict[str, type[ServiceSettings]] = {
    "registry": RegistrySettings,
    "verification": VerificationSettings,
    "disbursement": DisbursementSettings,
}


def _declared(service: str) -> tuple[MetaData, Path]:
    # The app module imports every feature, so every table is in the metadata.
    importlib.import_module(f"services.{service}.app")
    database = importlib.import_module(f"services.{service}.database")
    return database.metadata, database.MIGRATIONS


async def _differences(settings: ServiceSettings, service: str) -> list[Any]:
    metadata, migrations = _declared(service)
    engine = create_engine(settings)
    try:
        schema = settings.schema_name if settings.is_postgres else None
        await upgrade_to_head(engine, alembic_config(migrations, metadata=metadata, schema=schema))

        def compare(connection: Connection) -> list[Any]:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))

        async with engine.connect() as conn:
            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_declared_tables_match_the_migrations_on_sqlite(service: str, sqlite_settings: Any) -> None:
    assert await _differences(sqlite_settings(SERVICES[service]), service) == []


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_declared_tables_match_the_migrations_on_postgresql(service: str, pg_settings: Any) -> None:
    assert await _differences(pg_settings(SERVICES[service]), service) == []
