"""Polling helpers: tests wait for an observable state, never for a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def wait_for(
    probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], *, timeout: float = 30.0, every: float = 0.1
) -> T:
    """Call `probe` until `accept` holds for its value; fail with the last value after `timeout`."""
    deadline = time.monotonic() + timeout
    value = await probe()
    while not accept(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout}s; last value: {value!r}")
        await asyncio.sleep(every)
        value = await probe()
    return value
