"""Request ids, correlation ids, access metrics: one pure-ASGI middleware (no BaseHTTPMiddleware overhead)."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.context import correlation_id_var, request_id_var
from shared.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


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
            HTTP_REQUESTS.labels(self.service, scope["method"], path, str(status["code"])).inc()
            HTTP_LATENCY.labels(self.service, scope["method"], path).observe(time.perf_counter() - started)
            request_id_var.reset(rid_token)
            correlation_id_var.reset(cid_token)
