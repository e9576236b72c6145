"""The disbursement service's metadata: its own tables, including its outbox, inbox and dead letters."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from shared.db.messaging import define_messaging_tables
from shared.outbox.writer import OutboxWriter

mapper_registry = registry()
metadata = mapper_registry.metadata
messaging = define_messaging_tables(metadata)
MIGRATIONS = Path(__file__).parent / "migrations"
# The service's one outbox writer: every feature that emits events writes through it.
OUTBOX = OutboxWriter(source="disbursement", table=messaging.outbox)


class DisbursementModel(SQLModel, registry=mapper_registry):
    """Base of the disbursement service's SQLModel tables (kept apart from other services' metadata)."""
