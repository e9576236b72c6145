"""Transactional outbox: events are written in the same transaction as the state change they describe."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel
from sqlalchemy import Select, Table, event, insert, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from shared.context import current_correlation_id
from shared.events.envelope import utcnow
from shared.outbox.wakeup import wake

_PENDING_KEY = "tepat_outbox_pending"
# Columns every outbox row needs a value for (the others have defaults or may be null).
_REQUIRED = (
    "event_id",
    "topic",
    "event_type",
    "subject",
    "aggregate_version",
    "occurred_at",
    "recorded_at",
    "data",
)


def notify_channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel the relay of a schema listens on."""
    return f"tepat_outbox_{schema}"


class OutboxWriter:
    """Writes a service's events into its outbox table."""

    def __init__(self, *, source: str, table: Table) -> None:
        self.source = source
        self.table = table

    async def add(
        self,
        session: AsyncSession,
        *,
        topic: str,
        event_type: str,
        subject: str,
        aggregate_version: int,
        data: BaseModel | Mapping[str, Any],
        causation_id: UUID | str | None = None,
        correlation_id: str | None = None,
    ) -> UUID:
        """Append one event to the outbox within the session's transaction; returns its id."""
        event_id = uuid4()
        payload = data.model_dump_json() if isinstance(data, BaseModel) else json.dumps(dict(data))
        now = utcnow()
        await session.execute(
            insert(self.table).values(
                event_id=str(event_id),
                topic=topic,
                event_type=event_type,
                subject=subject,
                aggregate_version=aggregate_version,
                occurred_at=now,
                recorded_at=now,
                correlation_id=correlation_id or current_correlation_id(),
                causation_id=str(causation_id) if causation_id else None,
                data=payload,
            )
        )
        await self.signal(session)
        return event_id

    async def add_selected(self, session: AsyncSession, rows: Select[Any]) -> int:
        """Append one event per row of `rows` in one INSERT … SELECT (bulk events: a whole import, a tahap's
        lines); returns how many were written. The query's columns are labelled with the outbox's column names
        (event_id, topic, event_type, subject, aggregate_version, occurred_at, recorded_at, data at least) and its
        ORDER BY is the order the events are published in."""
        names = [column.name for column in rows.selected_columns]
        missing = [name for name in _REQUIRED if name not in names]
        unknown = [name for name in names if name not in self.table.c]
        if missing or unknown:
            raise ValueError(f"outbox rows: missing columns {missing}, unknown columns {unknown}")
        result = await session.execute(insert(self.table).from_select(names, rows))
        count = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if count:
            await self.signal(session)
        return count

    async def signal(self, session: AsyncSession) -> None:
        """Wake the relay when the transaction commits (NOTIFY on PostgreSQL, an in-process event always)."""
        pending: set[str] = session.sync_session.info.setdefault(_PENDING_KEY, set())
        if self.source in pending:
            return
        pending.add(self.source)
        if session.bind.dialect.name == "postgresql":
            # NOTIFY is transactional: listeners hear it only if and when this transaction commits.
            await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": notify_channel(self.source)})


@event.listens_for(Session, "after_commit")
def _wake_relays(session: Session) -> None:
    for source in session.info.pop(_PENDING_KEY, ()):
        wake(source)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
