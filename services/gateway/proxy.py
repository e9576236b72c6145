"""Distributed mode: stream requests to the services over HTTP, with clear 502/503/504 problems."""

from __future__ import annotations

import httpx
from fastapi import Request
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.upstreams import Upstream
from shared.context import correlation_id_var, request_id_var
from shared.http.problems import problem_response

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}
_IDEMPOTENT = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}
_BUFFER_LIMIT = 256 * 1024


async def forward(client: httpx.AsyncClient, upstream: Upstream, request: Request, path: str) -> Response:
    """Send the request to the upstream and stream its answer back."""
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP]
    headers.append(("x-request-id", request_id_var.get() or ""))
    headers.append(("x-correlation-id", correlation_id_var.get() or ""))
    url = httpx.URL(f"{upstream.url}/{path}", query=request.scope["query_string"])
    # Only idempotent requests may be retried; a POST is sent once, whatever happens.
    attempts = 2 if request.method in _IDEMPOTENT else 1
    # Most reads carry no body: do not wait on the receive channel for one.
    has_body = "content-length" in request.headers or "transfer-encoding" in request.headers
    body = await request.body() if has_body else None
    for attempt in range(attempts):
        try:
            upstream_request = client.build_request(request.method, url, headers=headers, content=body)
            upstream_response = await client.send(upstream_request, stream=True)
            break
        except httpx.ConnectError:
            if attempt + 1 < attempts:
                continue
            return problem_response(503, f"The {upstream.name} service is unavailable.", code="upstream_down")
        except httpx.TimeoutException:
            return problem_response(
                504, f"The {upstream.name} service did not answer in time.", code="upstream_timeout"
            )
        except httpx.HTTPError as exc:
            return problem_response(
                502, f"The {upstream.name} service failed: {type(exc).__name__}.", code="upstream_error"
            )
    response_headers = {k: v for k, v in upstream_response.headers.items() if k.lower() not in _HOP_BY_HOP}
    if "location" in response_headers:
        response_headers["location"] = prefixed_location(response_headers["location"], upstream.prefix)
    length = upstream_response.headers.get("content-length")
    if request.method != "HEAD" and length is not None and length.isdigit() and int(length) <= _BUFFER_LIMIT:
        # Small answers (nearly all JSON) are read whole: a plain response is cheaper than a streamed one.
        try:
            content = await upstream_response.aread()
        except httpx.HTTPError as exc:
            return problem_response(
                502, f"The {upstream.name} service failed: {type(exc).__name__}.", code="upstream_error"
            )
        finally:
            await upstream_response.aclose()
        return Response(content, status_code=upstream_response.status_code, headers=response_headers)
    return StreamingResponse(
        upstream_response.aiter_raw(),
        status_code=upstream_response.status_code,
        headers=response_headers,
        background=BackgroundTask(upstream_response.aclose),
    )


def prefixed_location(location: str, prefix: str) -> str:
    """A service's own absolute path (`/families/<id>`) as the client sees it through the gateway
    (`/api/registry/families/<id>`); full URLs and paths already under the prefix are left alone."""
    if not location.startswith("/") or location.startswith("//") or location.startswith(f"{prefix}/"):
        return location
    return f"{prefix}{location}"


class PrefixedLocation:
    """Embedded mode's counterpart of the proxy's rewrite: a mounted service's Location headers get its prefix."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request through the mounted service."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_prefixed(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (
                        k,
                        prefixed_location(v.decode("latin-1"), self.prefix).encode("latin-1")
                        if k == b"location"
                        else v,
                    )
                    for k, v in message.get("headers", [])
                ]
            await send(message)

        await self.app(scope, receive, send_prefixed)
