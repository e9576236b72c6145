"""SQL conditions used across services: the wilayah-scope filter, and those whose best form differs between
PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, any_, bindparam, or_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from shared.db.dialect import is_pg


def one_of(session: AsyncSession, column: Any, values: Iterable[str]) -> ColumnElement[bool]:
    """`column IN (values)`: on PostgreSQL as `= ANY(array)`, one parameter whatever the count.

    An IN list of thousands of values is thousands of parameters: SQLAlchemy renders each, asyncpg prepares a
    new statement for every list length, PostgreSQL plans it again. Bulk callers (status rules over an import)
    ask for 5,000 families at a time."""
    if is_pg(session):
        return column == any_(bindparam(None, list(values), type_=ARRAY(String())))  # type: ignore[no-any-return]
    return column.in_(list(values))  # type: ignore[no-any-return]


def within(column: Any, wilayah: str) -> ColumnElement[bool]:
    """SQL: a dotted wilayah code column lies inside `wilayah` (on code boundaries, never by name).

    The one scope filter of every service: `13.71.01` contains `13.71.01.1001` but not `13.71.011`."""
    return or_(column == wilayah, column.like(wilayah + ".%"))
