"""App factory of the gateway: the single entry point, mounting (embedded) or proxying (distributed)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from services.disbursement.app import create_app as create_disbursement
from services.disbursement.settings import DisbursementSettings
from services.gateway.proxy import forward
from services.gateway.settings import GatewaySettings
from services.gateway.upstreams import Upstream, upstreams
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from services.verification.app import create_app as create_verification
from services.verification.settings import VerificationSettings
from shared.auth.tokens import ensure_dev_keys
from shared.bus.local import LocalBus
from shared.http.middleware import RequestContextMiddleware
from shared.http.problems import install_problem_handlers, problem_response
from shared.observability.logging import configure_logging


def _embedded_apps(settings: GatewaySettings) -> dict[str, FastAPI]:
    # One in-process bus joins the three services, exactly as Kafka does in distributed mode.
    bus = LocalBus()
    ensure_dev_keys(settings.data_dir)
    return {
        "registry": create_registry(RegistrySettings(data_dir=settings.data_dir), bus=bus),
        "verification": create_verification(VerificationSettings(data_dir=settings.data_dir), bus=bus),
        "disbursement": create_disbursement(DisbursementSettings(data_dir=settings.data_dir), bus=bus),
    }


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    """Build the gateway."""
    settings = settings or GatewaySettings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    routes = upstreams(settings)
    embedded = _embedded_apps(settings) if settings.mode == "embedded" else {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            # Mounted apps do not get lifespan events from Starlette: run theirs inside the gateway's.
            for sub in embedded.values():
                await stack.enter_async_context(sub.router.lifespan_context(sub))
            app.state.http = await stack.enter_async_context(httpx.AsyncClient(timeout=settings.upstream_timeout_s))
            yield

    app = FastAPI(
        title="Tepat API",
        description="Single entry to the Tepat services: registry, verification, disbursement.",
        version="1.0.0",
        lifespan=lifespan,
    )
    app.add_middleware(RequestContextMiddleware, service="gateway")
    install_problem_handlers(app)

    @app.get("/healthz", tags=["ops"], summary="Gateway liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "gateway", "mode": settings.mode}

    @app.get("/readyz", tags=["ops"], summary="Readiness of every service behind the gateway")
    async def readyz(request: Request) -> Response:
        checks: dict[str, bool] = {}
        for up in routes:
            checks[up.name] = await _upstream_ready(request, up, embedded.get(up.name))
        if all(checks.values()):
            return JSONResponse({"status": "ready", "services": checks})
        return problem_response(503, "Some services are not ready", code="not_ready", services=checks)

    if embedded:
        for up in routes:
            app.mount(up.prefix, embedded[up.name])
    else:
        for up in routes:
            _add_proxy_route(app, up)

    _install_combined_openapi(app, routes, embedded)
    return app


async def _upstream_ready(request: Request, up: Upstream, sub: FastAPI | None) -> bool:
    if sub is not None:
        transport = httpx.ASGITransport(app=sub)
        async with httpx.AsyncClient(transport=transport, base_url="http://embedded") as client:
            return (await client.get("/readyz")).status_code == 200
    try:
        response: httpx.Response = await request.app.state.http.get(f"{up.url}/readyz", timeout=5)
        return response.status_code == 200
    except httpx.HTTPError:
        return False


def _add_proxy_route(app: FastAPI, up: Upstream) -> None:
    async def proxy(request: Request, path: str) -> Response:
        return await forward(request.app.state.http, up, request, path)

    app.add_api_route(
        f"{up.prefix}/{{path:path}}",
        proxy,
        methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
        include_in_schema=False,
        name=f"proxy_{up.name}",
    )


def _install_combined_openapi(app: FastAPI, routes: list[Upstream], embedded: dict[str, FastAPI]) -> None:
    """One OpenAPI document for the whole API: every service's paths under its prefix."""
    base_openapi = app.openapi

    def combined() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = base_openapi()
        for up in routes:
            sub = embedded.get(up.name)
            if sub is None:
                continue  # distributed: each service serves its own document under its prefix
            sub_doc = sub.openapi()
            for path, item in sub_doc.get("paths", {}).items():
                doc.setdefault("paths", {})[f"{up.prefix}{path}"] = item
            for name, schema in sub_doc.get("components", {}).get("schemas", {}).items():
                doc.setdefault("components", {}).setdefault("schemas", {}).setdefault(name, schema)
            with contextlib.suppress(KeyError):
                for name, scheme in sub_doc["components"]["securitySchemes"].items():
                    doc["components"].setdefault("securitySchemes", {})[name] = scheme
        app.openapi_schema = doc
        return doc

    app.openapi = combined  # type: ignore[method-assign]
