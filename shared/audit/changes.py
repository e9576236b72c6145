"""Changes noted by domain code during a request, written to the audit log when the request's transaction ends."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NotedChange:
    """One record's before and after, as the domain code saw them."""

    record_type: str
    record_id: str
    action: str
    before: Any
    after: Any


_noted: ContextVar[list[NotedChange] | None] = ContextVar("audit_noted", default=None)


def begin() -> None:
    """Start collecting changes for the current request."""
    _noted.set([])


def note_change(*, record_type: str, record_id: str, action: str, before: Any, after: Any) -> None:
    """Remember a change so the request's audit entry carries its before and after."""
    noted = _noted.get()
    if noted is not None:
        noted.append(NotedChange(record_type, record_id, action, before, after))


def drain() -> list[NotedChange]:
    """The changes noted so far (and stop collecting)."""
    noted = _noted.get() or []
    _noted.set(None)
    return noted
