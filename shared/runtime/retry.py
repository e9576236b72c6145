"""Telling a passing outage (database or broker unreachable) from a failure of the work itself, and waiting
between attempts with a capped exponential backoff."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
from aiokafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

# Connection-level failures and conflicts that a later attempt can get past; anything else is the work's own.
_TRANSIENT_PG = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # admin/crash shutdown, cannot connect now
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.InterfaceError,  # the connection closed under the driver
)


def is_transient(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) says the database or broker was unreachable or busy."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (DisconnectionError, InterfaceError, OperationalError)):
            return True
        if isinstance(current, (*_TRANSIENT_PG, OSError, TimeoutError)):
            return True
        if isinstance(current, KafkaError) and (current.retriable or "connect" in type(current).__name__.lower()):
            return True
        current = current.__cause__ or current.__context__
    return False


class Backoff:
    """Delays of first, 2*first, 4*first ... up to `cap` seconds; `reset` after a success."""

    def __init__(self, first: float = 0.1, cap: float = 10.0) -> None:
        self.first = first
        self.cap = cap
        self._next = first

    def next_delay(self) -> float:
        """The delay to wait now; the following one doubles, up to the cap."""
        delay = self._next
        self._next = min(self._next * 2, self.cap)
        return delay

    def reset(self) -> None:
        """Start again from the first delay."""
        self._next = self.first

    async def wait(self, stopping: asyncio.Event | None = None) -> None:
        """Sleep the next delay, or less if `stopping` is set meanwhile."""
        delay = self.next_delay()
        if stopping is None:
            await asyncio.sleep(delay)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), delay)
