"""Idempotent consumption: the inbox row and the effect are written in one transaction.

Only an event that fails for a reason of its own (unreadable, a handler's PermanentEventError, or an error that
repeats while the database is reachable) is dead-lettered. While the database is unreachable nothing counts
against an event: the consumer waits, with a capped backoff, for as long as the outage lasts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Table, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus.base import IncomingRecord
from shared.context import correlation_id_var
from shared.db.dialect import is_pg, unnest_insert
from shared.events.envelope import EventEnvelope, utcnow
from shared.observability.health import TaskHealth
from shared.observability.metrics import EVENTS_CONSUMED
from shared.runtime.retry import Backoff, is_transient

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, EventEnvelope], Awaitable[None]]


@dataclass(frozen=True)
class BatchHandler:
    """A handler that applies a run of consecutive events of one type in one statement (hot paths)."""

    apply: Callable[[AsyncSession, Sequence[EventEnvelope]], Awaitable[None]]


@dataclass(frozen=True)
class DeadLetter:
    """A record that could not be processed, with the last error."""

    record: IncomingRecord
    event_id: str | None
    error: str
    attempts: int


class PermanentEventError(Exception):
    """An event that can never be applied (bad payload): no point retrying it."""


class _AlreadyClaimed(Exception):
    """The inbox already holds an event of the batch: claim it row by row (ON CONFLICT) instead."""


class ParsedRecords(list[IncomingRecord]):
    """A batch of records with their envelopes already read: what parsed, in order, and what did not."""

    def __init__(
        self,
        records: Sequence[IncomingRecord],
        parsed: list[tuple[IncomingRecord, EventEnvelope]],
        dead: list[DeadLetter],
    ) -> None:
        super().__init__(records)
        self.parsed = parsed
        self.dead = dead


_INBOX_TYPES = {
    "event_id": "text",
    "topic": "text",
    "event_type": "text",
    "subject": "text",
    "partition": "int",
    "offset": "bigint",
    "status": "text",
    "received_at": "timestamptz",
}


def _inbox_rows(batch: Sequence[tuple[IncomingRecord, EventEnvelope]]) -> dict[str, dict[str, Any]]:
    """The inbox row of each event id, of its first delivery in the batch (with that record and envelope)."""
    now = utcnow()
    rows: dict[str, dict[str, Any]] = {}
    for r, e in batch:
        event_id = str(e.event_id)
        if event_id not in rows:
            rows[event_id] = {
                "event_id": event_id,
                "topic": r.topic,
                "event_type": e.event_type,
                "subject": e.subject,
                "partition": r.partition,
                "offset": r.offset,
                "status": "applied",
                "received_at": now,
                "_pair": (r, e),
            }
    return rows


class EventConsumer:
    """Applies events of some topics to a service's database, exactly once per event id."""

    def __init__(
        self,
        *,
        service: str,
        sessions: async_sessionmaker[AsyncSession],
        inbox: Table,
        dead_letter: Table,
        handlers: Mapping[str, Handler | BatchHandler],
        topics: Sequence[str],
        max_retries: int = 3,
        retry_backoff_ms: int = 200,
    ) -> None:
        self.service = service
        self.sessions = sessions
        self.inbox = inbox
        self.dead_letter_table = dead_letter
        self.handlers = dict(handlers)
        self.topics = tuple(topics)
        self.max_retries = max_retries
        self.retry_backoff_ms = retry_backoff_ms
        self.health = TaskHealth(service, "consumer")

    def parse(self, records: Sequence[IncomingRecord]) -> ParsedRecords:
        """Read the envelopes of a batch (CPU only, no database): the Kafka runner parses the next poll while the
        current one is being applied."""
        if isinstance(records, ParsedRecords):
            return records
        dead: list[DeadLetter] = []
        parsed: list[tuple[IncomingRecord, EventEnvelope]] = []
        for record in records:
            try:
                parsed.append((record, EventEnvelope.from_bytes(record.value)))
            except (ValidationError, ValueError) as exc:
                dead.append(DeadLetter(record, None, f"unreadable envelope: {exc}", 1))
        return ParsedRecords(records, parsed, dead)

    async def process(self, records: Sequence[IncomingRecord]) -> list[DeadLetter]:
        """Apply a batch in order; returns what failed for good (the caller dead-letters it)."""
        batch = self.parse(records)
        dead, parsed = list(batch.dead), batch.parsed
        if not parsed:
            return dead
        try:
            await self._apply(parsed)
            self.health.ok()
            return dead
        except Exception:
            log.warning("batch of %d failed; applying one by one", len(parsed), exc_info=True)
        # The fast path failed: isolate the poison event(s) so the rest still go through, in order.
        for record, envelope in parsed:
            failure = await self._apply_with_retries(record, envelope)
            if failure is not None:
                dead.append(failure)
        return dead

    async def _apply_with_retries(self, record: IncomingRecord, envelope: EventEnvelope) -> DeadLetter | None:
        attempts = 0
        outage = Backoff(first=max(self.retry_backoff_ms, 50) / 1000, cap=10.0)
        while True:
            try:
                await self._apply([(record, envelope)])
                self.health.ok()
                return None
            except PermanentEventError as exc:
                return DeadLetter(record, str(envelope.event_id), f"{type(exc).__name__}: {exc}", attempts + 1)
            except Exception as exc:
                if is_transient(exc) or not await self.database_reachable():
                    # The database (not the event) is the problem: wait as long as it takes, count nothing.
                    self.health.failed(exc)
                    log.warning("%s cannot apply events now (%s); retrying", self.service, exc)
                    await outage.wait()
                    continue
                attempts += 1
                if attempts > self.max_retries:
                    return DeadLetter(record, str(envelope.event_id), f"{type(exc).__name__}: {exc}", attempts)
                await asyncio.sleep(self.retry_backoff_ms * (2 ** (attempts - 1)) / 1000)

    async def database_reachable(self) -> bool:
        """True when the service's database answers a trivial query."""
        try:
            async with self.sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def _apply(self, batch: Sequence[tuple[IncomingRecord, EventEnvelope]]) -> None:
        relevant = [(r, e) for r, e in batch if e.event_type in self.handlers]
        if not relevant:
            return
        # Keyed by event id (computed once: str() of a UUID is not free), first delivery first: a duplicate
        # inside the batch applies once.
        rows = _inbox_rows(relevant)
        try:
            async with self.sessions() as session, session.begin():
                if is_pg(session):
                    # New events (all of them, almost always): a plain INSERT, cheaper than ON CONFLICT and with
                    # nothing to send back. An id already in the inbox fails it; the transaction is then rolled
                    # back whole (nothing else ran in it yet) and done again the careful way below.
                    await self._claim_all_new(session, list(rows.values()))
                    todo = [row["_pair"] for row in rows.values()]
                else:
                    fresh = await self._claim(session, rows)
                    todo = [row["_pair"] for event_id, row in rows.items() if event_id in fresh]
                await self._dispatch_all(session, todo)
        except _AlreadyClaimed:
            async with self.sessions() as session, session.begin():
                fresh = await self._claim(session, rows)
                todo = [row["_pair"] for event_id, row in rows.items() if event_id in fresh]
                await self._dispatch_all(session, todo)
        for topic, applied in groupby(todo, key=lambda pair: pair[0].topic):
            EVENTS_CONSUMED.labels(self.service, topic).inc(sum(1 for _ in applied))

    async def _dispatch_all(self, session: AsyncSession, todo: list[tuple[IncomingRecord, EventEnvelope]]) -> None:
        # Runs of one event type keep the batch's order while letting batch handlers use one statement.
        for event_type, run in groupby(todo, key=lambda pair: pair[1].event_type):
            await self._dispatch(session, self.handlers[event_type], [e for _, e in run])

    async def _dispatch(self, session: AsyncSession, handler: Handler | BatchHandler, run: list[EventEnvelope]) -> None:
        if isinstance(handler, BatchHandler):
            token = correlation_id_var.set(run[0].correlation_id)
            try:
                await handler.apply(session, run)
            finally:
                correlation_id_var.reset(token)
            return
        for envelope in run:
            token = correlation_id_var.set(envelope.correlation_id)
            try:
                await handler(session, envelope)
            finally:
                correlation_id_var.reset(token)

    async def _claim(self, session: AsyncSession, rows: Mapping[str, Mapping[str, Any]]) -> set[str]:
        """Insert the inbox rows not there yet; returns their event ids (the ones not seen before)."""
        if is_pg(session):
            claim, params = unnest_insert(
                self.inbox,
                _INBOX_TYPES,
                list(rows.values()),
                suffix="ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
            )
            return set((await session.execute(claim, params)).scalars().all())
        values = [{name: row[name] for name in _INBOX_TYPES} for row in rows.values()]
        stmt = (
            sqlite.insert(self.inbox)
            .values(values)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(self.inbox.c.event_id)
        )
        return set((await session.execute(stmt)).scalars().all())

    async def _claim_all_new(self, session: AsyncSession, rows: list[dict[str, Any]]) -> None:
        """Insert the inbox rows of events never seen before (PostgreSQL); `_AlreadyClaimed` when one was seen."""
        # One statement over arrays instead of a VALUES list with thousands of bind parameters: this is
        # the consumer's hot path, and compiling a huge VALUES clause per batch cost more than the insert.
        stmt, params = unnest_insert(self.inbox, _INBOX_TYPES, rows)
        try:
            await session.execute(stmt, params)
        except IntegrityError as exc:  # the inbox's only constraints: its key, and columns always filled
            raise _AlreadyClaimed from exc

    async def record_dead(self, dead: Sequence[DeadLetter]) -> None:
        """Keep dead letters in the service's own table, from where `replay_dead_letters` retries them."""
        if not dead:
            return
        now = utcnow()
        rows = [
            {
                "event_id": d.event_id,
                "topic": d.record.topic,
                "partition": d.record.partition,
                "offset": d.record.offset,
                "payload": d.record.value.decode("utf-8", errors="replace"),
                "error": d.error[:4000],
                "attempts": d.attempts,
                "failed_at": now,
            }
            for d in dead
        ]
        backoff = Backoff(first=0.1, cap=10.0)
        while True:
            try:
                async with self.sessions() as session, session.begin():
                    await session.execute(self.dead_letter_table.insert(), rows)
                return
            except Exception as exc:
                # The offset is committed only after this: giving up here would lose the event's trace, and
                # raising would end the consumer. Wait for the database instead.
                self.health.failed(exc)
                log.warning("%s cannot record %d dead letters (%s); retrying", self.service, len(dead), exc)
                await backoff.wait()

    async def replay_dead_letters(self) -> tuple[int, int]:
        """Try every unreplayed dead letter again; returns (applied, still failing)."""
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(self.dead_letter_table).where(self.dead_letter_table.c.replayed_at.is_(None))
                )
            ).all()
        applied = failed = 0
        for row in rows:
            record = IncomingRecord(
                topic=row.topic, value=row.payload.encode(), partition=row.partition, offset=row.offset
            )
            still_dead = await self.process([record])
            async with self.sessions() as session, session.begin():
                if still_dead:
                    failed += 1
                    await session.execute(
                        update(self.dead_letter_table)
                        .where(self.dead_letter_table.c.id == row.id)
                        .values(error=still_dead[0].error[:4000], attempts=row.attempts + still_dead[0].attempts)
                    )
                else:
                    applied += 1
                    await session.execute(
                        update(self.dead_letter_table)
                        .where(self.dead_letter_table.c.id == row.id)
                        .values(replayed_at=utcnow())
                    )
        return applied, failed
