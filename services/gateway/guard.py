"""The gateway's front door for /api and /dci: authentication, rate limits and body size limits, before any
routing.

/dci (the DCI Social Registry API) gets its own bucket per partner (its token's subject) instead of the general
client and write buckets (every DCI request is a POST, even a search), its own body limit, and refusals in the
spec's HttpErrorResponse shape (`{"errors": [{"code", "message"}]}`) instead of problem documents.

One pure-ASGI middleware, because it sits on every request and the gateway's added latency is budgeted in
milliseconds. Services check the same token again (defence in depth); this layer stops unauthenticated and
abusive traffic before it costs a service anything.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.metrics import GATEWAY_REJECTIONS
from services.gateway.settings import GatewaySettings
from shared.auth.permissions import Permission, allowed
from shared.auth.principal import Principal
from shared.auth.tokens import TokenError, TokenVerifier, VerifiedTokens
from shared.http.middleware import note_subject
from shared.http.problems import problem_response

# Reachable without a token under /api: liveness, readiness and API documents. Metrics need the system role.
PUBLIC_SUFFIXES = ("/healthz", "/readyz", "/openapi.json")
METRICS_PATH = "/metrics"
TOKEN_PATH = "/oauth/token"
DCI_PATH = "/dci/"
# The DCI spec's error codes for the refusals this layer makes.
DCI_CODES = {
    401: "err.request.unauthorized",
    403: "err.request.forbidden",
    413: "err.request.bad",
    429: "err.request.too_many_requests",
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
UPLOAD_MARKER = "/imports"


class _BodyTooLarge(Exception):
    pass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Token buckets keyed by client (and route for writes), bounded so a flood of keys cannot exhaust memory."""

    def __init__(self, per_minute: int, burst: int, max_keys: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str, now: float) -> float:
        """Take one token; returns 0 if allowed, else the seconds until one is available."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(self.burst, now)
            self._buckets[key] = bucket
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate


class ApiGuard:
    """Rate-limit, authenticate and size-limit every /api request, the gateway's /metrics and /oauth/token.

    Order matters: the per-address bucket comes before any token is looked at, and a request that fails
    authentication is charged to a stricter per-address bucket, so a flood of missing or forged tokens (or of
    wrong client secrets) ends in 429 instead of an endless stream of 401s.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: TokenVerifier,
        settings: GatewaySettings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.tokens = VerifiedTokens(verifier)
        self.max_body = settings.max_body_bytes
        self.max_upload = settings.max_upload_bytes
        self.clock = clock
        self.addresses = TokenBuckets(settings.address_rate_limit_per_minute, settings.address_rate_limit_burst)
        self.anonymous = TokenBuckets(settings.anonymous_rate_limit_per_minute, settings.anonymous_rate_limit_burst)
        self.clients = TokenBuckets(settings.rate_limit_per_minute, settings.rate_limit_burst)
        writes = settings.write_rate_limit_per_minute
        self.writes = TokenBuckets(writes, max(1, writes // 6))
        self.partners = TokenBuckets(settings.dci_rate_limit_per_minute, settings.dci_rate_limit_burst)
        self.max_dci_body = settings.dci_max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check one request."""
        path: str = scope.get("path", "")
        api = path.startswith("/api/")
        dci = path.startswith(DCI_PATH)
        if scope["type"] != "http" or not (api or dci or path in (METRICS_PATH, TOKEN_PATH)):
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        now = self.clock()
        address = _client_ip(scope)
        if wait := self.addresses.take(address, now):
            await _too_many(scope, receive, send, wait, "address_limited")
            return
        client_key = address
        if path == TOKEN_PATH:
            # Every token request is unauthenticated traffic, whatever its outcome.
            if wait := self.anonymous.take(address, now):
                await _too_many(scope, receive, send, wait, "unauthenticated_limited")
                return
        elif not (api and path.endswith(PUBLIC_SUFFIXES) and method in {"GET", "HEAD"}):
            principal = await self._authenticate(scope, receive, send, address, now)
            if principal is None:
                return
            if path.endswith(METRICS_PATH) and not allowed(principal.role, Permission.OPERATE):
                GATEWAY_REJECTIONS.labels("forbidden_metrics").inc()
                await _reply(scope, receive, send, 403, "Metrics are for the system role.", code="forbidden")
                return
            client_key = f"sub:{principal.subject}"
            note_subject(principal.subject)
        wait = self.partners.take(client_key, now) if dci else self.clients.take(client_key, now)
        if not wait and api and method in WRITE_METHODS:
            wait = self.writes.take(f"{client_key}|{_route_group(path)}", now)
        if wait:
            await _too_many(scope, receive, send, wait, "rate_limited")
            return
        limit = self.max_dci_body if dci else self.max_upload if UPLOAD_MARKER in path else self.max_body
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            GATEWAY_REJECTIONS.labels("body_too_large").inc()
            await _reply(scope, receive, send, 413, f"Request body larger than {limit} bytes.", code="body_too_large")
            return
        if declared is None and method in WRITE_METHODS and UPLOAD_MARKER not in path:
            await self._call_buffered(scope, receive, send, limit)
            return
        await self._call_counting(scope, receive, send, limit)

    async def _authenticate(
        self, scope: Scope, receive: Receive, send: Send, address: str, now: float
    ) -> Principal | None:
        """The request's principal, or None once a 401 (or, past the unauthenticated bucket, a 429) is sent."""
        token = _bearer(scope)
        if token is not None:
            try:
                return self.tokens.verify(token)
            except TokenError as exc:
                detail, headers = str(exc), {"WWW-Authenticate": 'Bearer error="invalid_token"'}
                code: str | None = "invalid_token"
        else:
            detail, headers, code = "A bearer token is required.", {"WWW-Authenticate": "Bearer"}, None
        if wait := self.anonymous.take(address, now):
            await _too_many(scope, receive, send, wait, "unauthenticated_limited")
            return None
        GATEWAY_REJECTIONS.labels("unauthenticated").inc()
        await _reply(scope, receive, send, 401, detail, headers, code=code)
        return None

    async def _call_buffered(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        # A chunked body on an ordinary route is read here first (it is small by definition), so an oversized
        # one is refused before any handler sees it; handlers that parse JSON would otherwise mask the error.
        messages: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > limit:
                GATEWAY_REJECTIONS.labels("body_too_large").inc()
                await _reply(
                    scope, receive, send, 413, f"Request body larger than {limit} bytes.", code="body_too_large"
                )
                return
            if not message.get("more_body", False):
                break
        replay = iter(messages)

        async def replay_receive() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, replay_receive, send)

    async def _call_counting(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        # Uploads stream on: they are counted as they arrive and cut off when they pass the limit.
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if started:
                raise
            GATEWAY_REJECTIONS.labels("body_too_large").inc()
            await _reply(scope, receive, send, 413, f"Request body larger than {limit} bytes.", code="body_too_large")


def _route_group(path: str) -> str:
    # /api/registry/families/<id>/members → /api/registry/families: writes are limited per resource family.
    parts = path.split("/")
    return "/".join(parts[:4])


def _bearer(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return f"ip:{client[0]}" if client else "ip:unknown"


async def _too_many(scope: Scope, receive: Receive, send: Send, wait: float, reason: str) -> None:
    GATEWAY_REJECTIONS.labels(reason).inc()
    headers = {"Retry-After": str(max(1, math.ceil(wait)))}
    await _reply(scope, receive, send, 429, "Rate limit exceeded; retry later.", headers, code="rate_limited")


async def _reply(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    detail: str,
    headers: dict[str, str] | None = None,
    *,
    code: str | None = None,
) -> None:
    response: Response
    if str(scope.get("path", "")).startswith(DCI_PATH):
        error = {"code": DCI_CODES.get(status, "err.request.bad"), "message": detail}
        response = JSONResponse({"errors": [error]}, status_code=status, headers=headers)
    else:
        response = problem_response(status, detail, headers=headers, code=code, instance=scope.get("path"))
    await response(scope, receive, send)
