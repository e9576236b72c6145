"""Desil rules as plain functions: period format, whether a snapshot is the newest, desil_since.

No I/O and no framework imports: the import's validation workers load this module (a worker starts in a
fifth of a second without SQLAlchemy and FastAPI, not half a second)."""

from __future__ import annotations

import re

PERIOD = re.compile(r"^[0-9]{4}-Q[1-4]$")


def valid_period(period: str) -> bool:
    """'2026-Q1' style periods (they sort correctly as text)."""
    return PERIOD.fullmatch(period) is not None


def desil_since_after(
    *, current: int | None, current_period: str | None, since: str | None, new: int, period: str
) -> tuple[bool, str | None]:
    """(is `period` the newest, desil_since afterwards) for a snapshot of `new` in `period`."""
    if current_period is not None and period < current_period:
        return False, since
    if current == new and since is not None:
        return True, since
    return True, period
