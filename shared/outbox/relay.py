"""The outbox relay: publishes committed events in id order, then marks them published.

A crash between the broker's ack and the mark means the batch is sent again (at-least-once); consumers
deduplicate by event id. While a full batch waits for the broker's acknowledgements the relay already reads the
next one (every unpublished row but the batch in flight, in id order, exactly what it would read after the mark),
so the database read no longer waits for the broker. On PostgreSQL a session advisory lock keeps exactly one
relay per service active, and LISTEN/NOTIFY wakes it as soon as an event commits; polling is the fallback. An
unreachable database or broker, at any step (connect, lock, read, publish, mark), is waited out with a capped
backoff: the relay never ends on its own, only when stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from typing import Any

from sqlalchemy import ARRAY, BigInteger, Table, Text, bindparam, cast, func, literal, select, update
from sqlalchemy.dialects.postgresql import INT8MULTIRANGE
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import failpoints
from shared.bus.base import OutgoingMessage, Publisher
from shared.events.envelope import envelope_json_from_row, utcnow
from shared.observability.health import TaskHealth
from shared.observability.metrics import EVENTS_PUBLISHED
from shared.outbox import wakeup
from shared.outbox.writer import notify_channel
from shared.runtime.retry import Backoff

log = logging.getLogger(__name__)


class OutboxRelay:
    """Moves a service's outbox rows to the bus."""

    def __init__(
        self,
        *,
        source: str,
        engine: AsyncEngine,
        table: Table,
        publisher: Publisher,
        batch_size: int = 1000,
        poll_interval_s: float = 0.5,
    ) -> None:
        self.source = source
        self.engine = engine
        self.table = table
        self.publisher = publisher
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self.is_leader = False
        self.terms = 0  # how many times this relay became the active one
        self.health = TaskHealth(source, "relay")
        self._backoff = Backoff(first=min(poll_interval_s, 0.5), cap=10.0)
        # The next batch, read while the previous one was being published.
        self._ahead: list[tuple[int, OutgoingMessage]] | None = None

    def stop(self) -> None:
        """Ask the loop to end after the batch in flight."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Relay until stopped; on PostgreSQL only while holding the service's relay lock."""
        self._wake = wakeup.register(self.source)
        try:
            if self.engine.dialect.name == "postgresql":
                await self._run_postgres()
            else:
                self.is_leader = True
                await self._loop()
        finally:
            self.is_leader = False
            wakeup.unregister(self.source, self._wake)
            if self._stopping.is_set():
                self.health.stopped()

    async def _run_postgres(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._lead_when_possible()
            except Exception as exc:
                # Connect, lock or listen failed (database restarting, unreachable): wait it out, never give up.
                self.is_leader = False
                self.health.failed(exc)
                log.warning("relay of %s cannot reach its database (%s); retrying", self.source, exc)
                await self._backoff.wait(self._stopping)

    async def _lead_when_possible(self) -> None:
        lock_key = zlib.crc32(f"tepat-relay-{self.source}".encode())
        async with self.engine.connect() as conn:
            raw: Any = (await conn.get_raw_connection()).driver_connection
            if not await raw.fetchval("SELECT pg_try_advisory_lock($1)", lock_key):
                # Another relay of this service is active: stand by and try again later.
                self.health.ok()
                self._backoff.reset()
                await self._sleep(self.poll_interval_s * 4)
                return
            self.is_leader = True
            self.terms += 1
            channel = notify_channel(self.source)
            await raw.add_listener(channel, self._on_notify)
            lost = asyncio.Event()
            watchdog = asyncio.create_task(self._watch_lock(raw, lost))
            try:
                await self._loop(lost)
            finally:
                self.is_leader = False
                watchdog.cancel()
                with contextlib.suppress(Exception):
                    await raw.remove_listener(channel, self._on_notify)
                    await raw.fetchval("SELECT pg_advisory_unlock($1)", lock_key)

    async def _watch_lock(self, raw: Any, lost: asyncio.Event) -> None:
        # The lock lives as long as its connection: if that connection dies, so does the leadership,
        # and this relay must stop publishing before another one takes over.
        try:
            while True:
                await asyncio.sleep(2)
                await asyncio.wait_for(raw.fetchval("SELECT 1"), 5)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("relay of %s lost its lock connection; standing down", self.source)
            lost.set()
            self._wake.set()

    def _on_notify(self, *_args: object) -> None:
        self._wake.set()

    async def _loop(self, lost: asyncio.Event | None = None) -> None:
        self._ahead = None  # read in an earlier term: another relay may have published those rows meanwhile
        while not self._stopping.is_set() and not (lost is not None and lost.is_set()):
            try:
                sent = await self.relay_once()
            except Exception as exc:
                self.health.failed(exc)
                log.warning("relay of %s failed (%s); retrying", self.source, exc, exc_info=True)
                await self._backoff.wait(self._stopping)
                continue
            self.health.ok()
            self._backoff.reset()
            if sent < self.batch_size:
                await self._sleep(self.poll_interval_s)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def relay_once(self) -> int:
        """Publish one batch of unpublished events; returns how many were published."""
        batch, self._ahead = (self._ahead, None) if self._ahead is not None else (await self._read(()), None)
        if not batch:
            return 0
        ids = [row_id for row_id, _ in batch]
        messages = [message for _, message in batch]
        if len(batch) < self.batch_size:
            await self.publisher.publish(messages)
            ahead = None
        else:
            # More may be waiting: read the next batch while the broker acknowledges this one. If either fails,
            # nothing is marked and the batch is sent again later (consumers de-duplicate).
            _, ahead = await asyncio.gather(self.publisher.publish(messages), self._read(ids))
        self._ahead = ahead
        failpoints.hit("relay_after_ack")
        t = self.table
        async with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # One array parameter instead of thousands of IN-list parameters to compile and bind.
                matches = t.c.id == func.any(bindparam("ids", value=ids, type_=ARRAY(BigInteger)))
            else:
                matches = t.c.id.in_(ids)
            await conn.execute(update(t).where(matches).values(published_at=utcnow()))
        EVENTS_PUBLISHED.labels(self.source).inc(len(batch))
        return len(batch)

    async def _read(self, in_flight: list[int] | tuple[()]) -> list[tuple[int, OutgoingMessage]]:
        """The next batch of unpublished rows in id order (leaving out the batch being published), as messages."""
        t = self.table
        async with self.engine.connect() as conn:
            pg = conn.dialect.name == "postgresql"
            # PostgreSQL writes the envelope itself: the relay then decodes four columns instead of twelve and
            # encodes no JSON, which was most of its work per event (the wire format is envelope_json_from_row's).
            stmt = select(t.c.id, t.c.topic, t.c.subject, _envelope_sql(t, self.source)) if pg else select(t)
            stmt = stmt.where(t.c.published_at.is_(None))
            if in_flight:
                if pg:
                    # As ranges, not `id <> ALL(array)`: once PostgreSQL's plan cache switches the statement to its
                    # generic plan, that array is a parameter it scans linearly for every row (batch size squared
                    # comparisons, 120 ms of a 5,000-row read); a multirange answers by binary search over a few
                    # ranges (the ids of a batch are mostly consecutive).
                    ranges = cast(bindparam("in_flight", value=_id_ranges(in_flight), type_=Text), INT8MULTIRANGE)
                    stmt = stmt.where(~ranges.op("@>")(t.c.id))
                else:
                    stmt = stmt.where(t.c.id.not_in(in_flight))
            rows = (await conn.execute(stmt.order_by(t.c.id).limit(self.batch_size))).all()
        return [
            (
                r.id,
                OutgoingMessage(
                    topic=r.topic,
                    key=r.subject.encode(),
                    value=r.envelope.encode() if pg else envelope_json_from_row(r, self.source),
                ),
            )
            for r in rows
        ]


def _id_ranges(ids: list[int]) -> str:
    """Ids as a PostgreSQL int8multirange literal of their runs of consecutive values: [1, 2, 3, 7] -> {[1,4),[7,8)}."""
    ordered = sorted(ids)
    runs: list[str] = []
    start = prev = ordered[0]
    for value in ordered[1:]:
        if value != prev + 1:
            runs.append(f"[{start},{prev + 1})")
            start = value
        prev = value
    runs.append(f"[{start},{prev + 1})")
    return "{" + ",".join(runs) + "}"


def _utc_text(column: Any) -> Any:
    # The ISO 8601 form the envelope carries everywhere, whatever the session's time zone.
    return func.to_char(func.timezone("UTC", column), literal('YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'))


def _envelope_sql(t: Table, source: str) -> Any:
    """The event envelope as JSON text, built by PostgreSQL (same fields as `envelope_json_from_row`)."""
    head = func.json_build_object(
        literal("event_id"), t.c.event_id,
        literal("event_type"), t.c.event_type,
        literal("schema_version"), t.c.schema_version,
        literal("source"), literal(source),
        literal("subject"), t.c.subject,
        literal("aggregate_version"), t.c.aggregate_version,
        literal("occurred_at"), _utc_text(t.c.occurred_at),
        literal("recorded_at"), _utc_text(t.c.recorded_at),
        literal("correlation_id"), t.c.correlation_id,
        literal("causation_id"), t.c.causation_id,
    )  # fmt: skip
    # `data` is stored as JSON text already: spliced in, never parsed again.
    return (func.left(cast(head, Text), -1) + literal(',"data":') + t.c.data + literal("}")).label("envelope")
