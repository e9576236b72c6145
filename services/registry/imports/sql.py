"""The few SQL expressions that differ between PostgreSQL and SQLite (JSON building, job uuids)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, case, cast, func, literal, literal_column, type_coerce
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from shared.db.dialect import is_pg, job_uuid, json_object


class Dialect:
    """SQL building blocks for the session's dialect."""

    def __init__(self, session: AsyncSession) -> None:
        self.pg = is_pg(session)

    def job_uuid(self, job_id: str, serial: Any, kind: str = "") -> ColumnElement[Any]:
        """`shared.db.dialect.job_uuid` for this dialect."""
        return job_uuid(self.pg, job_id, serial, kind)

    def obj(self, *pairs: Any) -> ColumnElement[Any]:
        """A JSON object from key, value, key, value, ..."""
        return json_object(self.pg, *pairs)

    def obj_or(self, condition: Any, pairs: tuple[Any, ...], other: Any) -> ColumnElement[Any]:
        """Where `condition`, the JSON object of `pairs` (key, value, ...), else the JSON column `other`: a value
        to nest in `obj_text` (on PostgreSQL as text, so the object is built by `obj_text` too)."""
        if self.pg:
            return type_coerce(case((condition, self.obj_text(*pairs)), else_=cast(other, Text)), _NESTED)
        return func.json(case((condition, self.obj(*pairs)), else_=other))

    def embed(self, value: Any) -> ColumnElement[Any]:
        """A JSON value read from a column, to nest inside `obj` / `obj_text` (SQLite would nest it as a
        string)."""
        return type_coerce(value, JSON()) if self.pg else func.json(value)

    def array_agg(self, value: Any) -> ColumnElement[Any]:
        """A JSON array aggregate, ordered by the value."""
        return func.json_agg(aggregate_order_by(value, value)) if self.pg else func.json_group_array(value)

    def empty_array(self) -> ColumnElement[Any]:
        """'[]' as JSON."""
        return literal_column("'[]'::json") if self.pg else func.json("[]")

    def obj_text(self, *pairs: Any) -> ColumnElement[Any]:
        """A JSON object as text from key, value, ... (values: text or integer columns, `embed`ded JSON, nested
        `obj_text`), for a text column such as the outbox's data.

        On PostgreSQL one `concat` of the escaped parts (`to_json` for text, the digits of an integer, JSON as
        it is): `json_build_object(…)::text` over 250,000 events took twice as long, per-value type dispatch
        for the same result. SQLite builds it with `json_object`."""
        if not self.pg:
            return self.obj(*pairs)
        parts: list[Any] = []
        for i in range(0, len(pairs), 2):
            key, value = pairs[i], pairs[i + 1]
            parts.append(literal(("{" if i == 0 else ",") + f'"{key}":', String))
            parts.append(_json_part(value))
        parts.append(literal("}", String))
        return type_coerce(func.concat(*parts), _NESTED)


class _Nested(Text):
    """The type of an `obj_text` result: JSON text, nested as it is."""

    cache_ok = True


_NESTED = _Nested()


def _json_part(value: Any) -> ColumnElement[Any]:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return literal(json.dumps(value), String)  # a constant: its JSON text, once
    kind = getattr(value, "type", None)
    if isinstance(kind, _Nested):
        return value  # type: ignore[no-any-return]
    if isinstance(kind, JSON):
        return cast(value, Text)
    if isinstance(kind, Integer):
        return func.coalesce(cast(value, Text), literal("null", String))
    return func.coalesce(cast(func.to_json(value), Text), literal("null", String))
