"""Request ids, correlation ids, access metrics and the access log: one pure-ASGI middleware (no
BaseHTTPMiddleware overhead).

One JSON line per request (logger `tepat.access`): request id, method, route template, status, duration and
the principal's subject. Only the route template is logged, never the path's values or the query string, which
may hold a NIK. When a service is mounted inside the gateway (embedded mode) the outer middleware writes the
line and the inner one contributes its finer route template and the subject.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.context import correlation_id_var, request_id_var
from shared.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
_NIK_LIKE = re.compile(r"\d{16}")
access_log = logging.getLogger("tepat.access")
# The access entry of the request in progress, filled in by nested apps and the gateway's guard.
_access_var: ContextVar[dict[str, Any] | None] = ContextVar("access_entry", default=None)


def note_subject(subject: str) -> None:
    """Record the verified caller's subject for the access log line of the current request."""
    entry = _access_var.get()
    if entry is not None:
        entry["subject"] = _safe_subject(subject)


def _safe_subject(subject: str) -> str:
    # A subject is an account id, but an issuer could use a NIK as one: never let 16 digits reach a log.
    return _NIK_LIKE.sub("****************", subject)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            text: str = value.decode("latin-1")
            return text if _SAFE_ID.match(text) else None
    return None


class RequestContextMiddleware:
    """Accepts or creates X-Request-ID, carries X-Correlation-ID, returns both, records metrics."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap one request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A service mounted inside the gateway (embedded mode) keeps the ids the gateway already chose.
        request_id = _header(scope, b"x-request-id") or request_id_var.get() or uuid.uuid4().hex
        correlation_id = _header(scope, b"x-correlation-id") or correlation_id_var.get() or request_id
        rid_token = request_id_var.set(request_id)
        cid_token = correlation_id_var.set(correlation_id)
        status: dict[str, Any] = {"code": 500}
        # Mounts extend root_path in the shared scope: what they add to ours belongs in the route label.
        root_path: str = scope.get("root_path", "")
        started = time.perf_counter()
        outer = _access_var.get()
        entry: dict[str, Any] = outer if outer is not None else {}
        access_token = _access_var.set(entry) if outer is None else None

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"x-request-id" not in names:
                    headers.append((b"x-request-id", request_id.encode()))
                if b"x-correlation-id" not in names:
                    headers.append((b"x-correlation-id", correlation_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_ids)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None)
            path = f"{scope.get('root_path', '')[len(root_path) :]}{template}" if template else "unmatched"
            elapsed = time.perf_counter() - started
            HTTP_REQUESTS.labels(self.service, scope["method"], path, str(status["code"])).inc()
            HTTP_LATENCY.labels(self.service, scope["method"], path).observe(elapsed)
            principal = scope.get("state", {}).get("principal")
            if principal is not None:
                entry["subject"] = _safe_subject(principal.subject)
            if outer is not None:
                # Mounted: the gateway's middleware writes the line, with this service's finer route.
                outer["service"] = self.service
                full_route = f"{scope.get('root_path', '')}{template}" if template else None
                outer["route"] = full_route or outer.get("route")
            else:
                _access_var.reset(access_token)  # type: ignore[arg-type]
                self._log(scope, entry, path, status["code"], elapsed, request_id)
            request_id_var.reset(rid_token)
            correlation_id_var.reset(cid_token)

    def _log(self, scope: Scope, entry: dict[str, Any], route: str, status: int, elapsed: float, rid: str) -> None:
        line = {
            "service": entry.get("service", self.service),
            "method": scope["method"],
            "route": entry.get("route") or route,
            "status": status,
            "duration_ms": round(elapsed * 1000, 2),
            "subject": entry.get("subject"),
            "request_id": rid,
        }
        access_log.info(
            "%s %s %s %.1fms", line["method"], line["route"], status, line["duration_ms"], extra={"access": line}
        )
