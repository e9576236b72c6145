"""What the relay and the consumers need from a bus, whichever bus it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    """One event ready to be published: key = subject, so one household's events stay in order."""

    topic: str
    key: bytes
    value: bytes


@dataclass(frozen=True)
class IncomingRecord:
    """One record as a consumer receives it, with its position when the bus has one."""

    topic: str
    value: bytes
    key: bytes | None = None
    partition: int | None = None
    offset: int | None = None
    headers: tuple[tuple[str, bytes], ...] = field(default_factory=tuple)


class Publisher(Protocol):
    """Publishes a batch and returns only when every message is durably accepted, else raises."""

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Publish all messages, preserving order per key."""
        ...

    async def ping(self) -> bool:
        """True when the bus is reachable."""
        ...
