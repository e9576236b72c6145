"""Statements whose construct differs between PostgreSQL (distributed) and SQLite (embedded)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def is_pg(session: AsyncSession) -> bool:
    """True on PostgreSQL."""
    return session.bind.dialect.name == "postgresql"


def insert_for(session: AsyncSession, table: Table) -> Any:
    """The dialect's INSERT construct (both have ON CONFLICT DO NOTHING / DO UPDATE)."""
    return (postgresql.insert if is_pg(session) else sqlite.insert)(table)
