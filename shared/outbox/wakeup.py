"""In-process wake-up of relays, so an event committed in this process is relayed without waiting."""

from __future__ import annotations

import asyncio

_events: dict[str, set[asyncio.Event]] = {}


def register(source: str) -> asyncio.Event:
    """A new event the relay of `source` waits on."""
    ev = asyncio.Event()
    _events.setdefault(source, set()).add(ev)
    return ev


def unregister(source: str, ev: asyncio.Event) -> None:
    """Forget a relay's wake-up event when it stops."""
    _events.get(source, set()).discard(ev)


def wake(source: str) -> None:
    """Wake every relay of `source` in this process."""
    for ev in _events.get(source, ()):
        ev.set()
