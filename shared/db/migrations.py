"""Alembic, one migration history per service schema, run programmatically (CLI, Compose, embedded start)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine


def alembic_config(script_location: Path, *, metadata: MetaData, schema: str | None) -> Config:
    """An in-memory Alembic config for one service (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["target_metadata"] = metadata
    cfg.attributes["schema"] = schema
    return cfg


async def upgrade_to_head(engine: AsyncEngine, cfg: Config) -> None:
    """Apply every pending migration of the service in one transaction."""

    def _run(connection: Connection) -> None:
        if connection.dialect.name == "postgresql" and cfg.attributes.get("schema"):
            # Serialise concurrent starts (several replicas, the migrate step) on one lock per schema.
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": cfg.attributes["schema"]})
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")

    async with engine.begin() as conn:
        await conn.run_sync(_run)


def run_env(context: Any) -> None:
    """The body of every service's migrations/env.py."""
    cfg = context.config
    connection = cfg.attributes["connection"]
    is_pg = connection.dialect.name == "postgresql"
    context.configure(
        connection=connection,
        target_metadata=cfg.attributes["target_metadata"],
        version_table_schema=cfg.attributes.get("schema") if is_pg else None,
        render_as_batch=not is_pg,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
