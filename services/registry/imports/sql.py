"""The few SQL expressions that differ between PostgreSQL and SQLite (JSON building, new uuids)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, func, literal, literal_column
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

# A version-4-shaped uuid from SQLite's random bytes (SQLite has no uuid function).
_SQLITE_UUID = (
    "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || "
    "substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))"
)


class Dialect:
    """SQL building blocks for the session's dialect."""

    def __init__(self, session: AsyncSession) -> None:
        self.pg = session.bind.dialect.name == "postgresql"

    def new_uuid(self) -> ColumnElement[Any]:
        """A fresh uuid (text) per row."""
        if self.pg:
            return cast(func.gen_random_uuid(), String)
        return literal_column(_SQLITE_UUID, String)

    def job_uuid(self, job_id: str, serial: Any) -> ColumnElement[Any]:
        """A uuid made of the job id's first 24 characters and a 12-hex-digit serial (the job's row number).

        Still version-4-shaped and unique (the job id is random, the serial unique within the job), but
        consecutive: a job's event ids land at one end of the outbox's unique index instead of all over it."""
        prefix = literal(job_id[:24], String)
        if self.pg:
            return prefix + func.lpad(func.to_hex(serial), 12, "0")
        return prefix + func.substr(literal("000000000000", String) + func.printf("%x", serial), -12)

    def obj(self, *pairs: Any) -> ColumnElement[Any]:
        """A JSON object from key, value, key, value, ..."""
        return func.json_build_object(*pairs) if self.pg else func.json_object(*pairs)

    def embed(self, value: Any) -> ColumnElement[Any]:
        """A JSON value read from a column, to nest inside `obj` (SQLite would nest it as a string)."""
        return value if self.pg else func.json(value)

    def array_agg(self, value: Any) -> ColumnElement[Any]:
        """A JSON array aggregate, ordered by the value."""
        return func.json_agg(aggregate_order_by(value, value)) if self.pg else func.json_group_array(value)

    def empty_array(self) -> ColumnElement[Any]:
        """'[]' as JSON."""
        return literal_column("'[]'::json") if self.pg else func.json("[]")

    def as_text(self, value: Any) -> ColumnElement[Any]:
        """A JSON value as text (the outbox's data column)."""
        return cast(value, String) if self.pg else value
