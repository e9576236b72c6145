"""The registry service's metadata: its own tables, including its outbox, inbox and dead letters."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from shared.db.messaging import define_messaging_tables
from shared.exports.jobs import define_export_job_table

mapper_registry = registry()
metadata = mapper_registry.metadata
messaging = define_messaging_tables(metadata)
export_jobs = define_export_job_table(metadata)
MIGRATIONS = Path(__file__).parent / "migrations"


class RegistryModel(SQLModel, registry=mapper_registry):
    """Base of the registry service's SQLModel tables (kept apart from other services' metadata)."""
