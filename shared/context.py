"""Per-request context (request and correlation ids) carried into logs and events."""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def current_correlation_id() -> str | None:
    """The correlation id of the request or event being handled, if any."""
    return correlation_id_var.get() or request_id_var.get()
