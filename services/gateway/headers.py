"""Security headers on every gateway response, and limits on the request headers it accepts."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.metrics import GATEWAY_REJECTIONS
from shared.http.problems import problem_response

_ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
    (b"permissions-policy", b"geolocation=(), camera=(), microphone=()"),
]
# API answers carry personal data: never cached, never rendered as a page.
_API = [(b"cache-control", b"no-store"), (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")]


class SecurityHeaders:
    """Adds the headers above unless a handler set them already."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap one request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = _ALWAYS + (_API if scope.get("path", "").startswith("/api/") else [])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers.extend((k, v) for k, v in extra if k not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeaderLimits:
    """431 for a request whose headers are too many or too large, before anything parses them (a token, an id).

    The server's own limit (h11's largest incomplete event, see `server_limits`) stops a multi-megabyte head
    before it is even buffered; this check holds under any server and answers with a problem document.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_count: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_count = max_count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check one request's headers."""
        if scope["type"] == "http":
            headers = scope.get("headers", ())
            size = sum(len(k) + len(v) for k, v in headers)
            if len(headers) > self.max_count or size > self.max_bytes:
                GATEWAY_REJECTIONS.labels("header_too_large").inc()
                detail = f"Request headers exceed {self.max_count} fields or {self.max_bytes} bytes."
                response = problem_response(
                    431,
                    detail,
                    title="Request header fields too large",
                    code="headers_too_large",
                    instance=scope.get("path"),
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def server_limits(max_header_bytes: int) -> dict[str, Any]:
    """uvicorn options that bound the request head: the h11 parser (httptools has no such limit) buffering at
    most four times the header limit, so a larger head is cut off by the server before the app sees it."""
    return {"http": "h11", "h11_max_incomplete_event_size": 4 * max_header_bytes}
