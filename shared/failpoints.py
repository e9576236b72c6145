"""Named crash points for fault tests: a process started with TEPAT_FAILPOINTS=name dies there (or, at a stall
point, waits forever).

They cost one set lookup and exist so the fault tests kill the real relay and consumer at the exact moment
that matters (after the broker ack, after the database commit), not at a random one.
"""

from __future__ import annotations

import asyncio
import os
import signal

_ACTIVE = frozenset(p for p in os.environ.get("TEPAT_FAILPOINTS", "").split(",") if p)


def hit(name: str) -> None:
    """Kill this process with SIGKILL if the failpoint `name` is active."""
    if name in _ACTIVE:
        os.kill(os.getpid(), signal.SIGKILL)


async def stall(name: str) -> None:
    """Never return if the failpoint `name` is active (a step that hangs, e.g. a consumer stuck leaving its group)."""
    if name in _ACTIVE:
        await asyncio.Event().wait()
