"""App factory of the gateway: the single entry point, mounting (embedded) or proxying (distributed)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.disbursement.app import create_app as create_disbursement
from services.disbursement.settings import DisbursementSettings
from services.gateway.apidocs.router import apidocs_router
from services.gateway.dashboard.router import router as dashboard_router
from services.gateway.field.router import router as field_router
from services.gateway.guard import ApiGuard
from services.gateway.headers import HeaderLimits, SecurityHeaders
from services.gateway.oauth import ClientLockout, load_clients, oauth_router
from services.gateway.proxy import PrefixedLocation, forward
from services.gateway.settings import GatewaySettings
from services.gateway.status_check.checker import StatusChecker
from services.gateway.status_check.checker import Upstream as StatusUpstream
from services.gateway.status_check.router import status_check_router
from services.gateway.upstreams import Upstream, upstreams
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from services.verification.app import create_app as create_verification
from services.verification.settings import VerificationSettings
from shared.auth.tokens import PRIVATE_KEY_NAME, PUBLIC_KEY_NAME, TokenVerifier, ensure_dev_keys, load_public_key
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


def _verifier(settings: GatewaySettings) -> TokenVerifier:
    key_file = settings.auth_public_key_file or settings.data_dir / PUBLIC_KEY_NAME
    key = load_public_key(key_file) if not settings.auth_jwks_url and key_file.exists() else None
    return TokenVerifier(
        issuer=settings.auth_issuer, audience=settings.auth_audience, public_key=key, jwks_url=settings.auth_jwks_url
    )


def create_app(settings: GatewaySettings | None = None, *, clock: Callable[[], float] = time.monotonic) -> FastAPI:
    """Build the gateway (`clock` drives rate limits and lockouts; tests move it instead of sleeping)."""
    settings = settings or GatewaySettings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    routes = upstreams(settings)
    embedded = _embedded_apps(settings) if settings.mode == "embedded" else {}
    upstream_docs: dict[str, dict[str, Any]] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            # Mounted apps do not get lifespan events from Starlette: run theirs inside the gateway's.
            for sub in embedded.values():
                await stack.enter_async_context(sub.router.lifespan_context(sub))
            app.state.http = await stack.enter_async_context(httpx.AsyncClient(timeout=settings.upstream_timeout_s))
            if embedded:
                app.state.registry_asgi = await stack.enter_async_context(_asgi_client(embedded["registry"]))
                paid = await stack.enter_async_context(_asgi_client(embedded["disbursement"]))
                app.state.status_upstreams = {
                    "registry": StatusUpstream(app.state.registry_asgi, ""),
                    "disbursement": StatusUpstream(paid, ""),
                }
            else:
                app.state.status_upstreams = {
                    up.name: StatusUpstream(app.state.http, up.url) for up in routes if up.name != "verification"
                }
            if not embedded:
                upstream_docs.update(await _fetch_upstream_docs(app.state.http, routes))
            yield

    app = FastAPI(
        title="Tepat API",
        description="Single entry to the Tepat services: registry, verification, disbursement.",
        version="1.0.0",
        lifespan=lifespan,
        # Served by apidocs_router from this installation instead of FastAPI's CDN pages.
        docs_url=None,
        redoc_url=None,
    )
    # Starlette runs the middleware added last first: request ids, header limits, security headers, CORS, and the
    # guard (rate limits, authentication, body limits) of /api, /metrics and /oauth/token.
    app.add_middleware(ApiGuard, verifier=_verifier(settings), settings=settings, clock=clock)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["ETag", "X-Request-ID", "X-Correlation-ID", "Retry-After"],
        )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HeaderLimits, max_bytes=settings.max_header_bytes, max_count=settings.max_header_count)
    app.add_middleware(RequestContextMiddleware, service="gateway")
    install_problem_handlers(app)
    app.include_router(dashboard_router)
    app.include_router(field_router)
    app.include_router(status_check_router(StatusChecker(settings, clock=clock)))
    app.include_router(apidocs_router(app.title))
    app.include_router(
        oauth_router(
            clients=load_clients(settings.oauth_clients_file),
            private_key=settings.data_dir / PRIVATE_KEY_NAME,
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            ttl_s=settings.token_ttl_s,
            lockout=ClientLockout(
                max_failures=settings.oauth_lockout_failures, lock_s=settings.oauth_lockout_s, clock=clock
            ),
        )
    )

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

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        # The guard lets only the system role this far (tepat_gateway_* and the request metrics of this process).
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    if embedded:
        for up in routes:
            app.mount(up.prefix, PrefixedLocation(embedded[up.name], up.prefix))
    else:
        for up in routes:
            _add_proxy_route(app, up)

    _add_dci_route(app, next(up for up in routes if up.name == "registry"), embedded=bool(embedded))

    def sub_docs() -> dict[str, dict[str, Any]]:
        if embedded:
            return {name: sub.openapi() for name, sub in embedded.items()}
        return upstream_docs

    _install_combined_openapi(app, routes, sub_docs)
    return app


async def _fetch_upstream_docs(client: httpx.AsyncClient, routes: list[Upstream]) -> dict[str, dict[str, Any]]:
    """Each service's OpenAPI document, best effort (a service still starting is left out until restart)."""
    docs: dict[str, dict[str, Any]] = {}
    for up in routes:
        try:
            response = await client.get(f"{up.url}/openapi.json", timeout=5)
            if response.status_code == 200:
                docs[up.name] = response.json()
        except (httpx.HTTPError, ValueError):
            continue
    return docs


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


# DCI Social Registry API: partners call /dci/social/registry/... (the path the standard names), served by the
# registry in both modes; the registry checks the token and the message signature itself.
DCI_PREFIX = "/dci/social/registry"


def _asgi_client(sub: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=sub), base_url="http://registry")


def _add_dci_route(app: FastAPI, registry: Upstream, *, embedded: bool) -> None:
    target = Upstream(name="registry", prefix=DCI_PREFIX, url="http://registry" if embedded else registry.url)

    async def dci(request: Request, path: str) -> Response:
        client = request.app.state.registry_asgi if embedded else request.app.state.http
        return await forward(client, target, request, f"{DCI_PREFIX.lstrip('/')}/{path}")

    app.add_api_route(f"{DCI_PREFIX}/{{path:path}}", dci, methods=["POST"], include_in_schema=False, name="dci")


def _install_combined_openapi(
    app: FastAPI, routes: list[Upstream], sub_docs: Callable[[], dict[str, dict[str, Any]]]
) -> None:
    """One OpenAPI document for the whole API: every service's paths under its prefix, its schemas renamed
    `<service>_<name>` so two services' models of the same name cannot overwrite each other."""
    base_openapi = app.openapi

    def combined() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = base_openapi()
        docs = sub_docs()
        components = doc.setdefault("components", {})
        for up in routes:
            sub_doc = docs.get(up.name)
            if sub_doc is None:
                continue
            renamed = _prefix_refs(sub_doc, f"{up.name}_")
            for path, item in renamed.get("paths", {}).items():
                doc.setdefault("paths", {})[f"{up.prefix}{path}"] = item
            for name, schema in renamed.get("components", {}).get("schemas", {}).items():
                components.setdefault("schemas", {})[f"{up.name}_{name}"] = schema
            for name, scheme in renamed.get("components", {}).get("securitySchemes", {}).items():
                components.setdefault("securitySchemes", {})[name] = scheme
        # The DCI routes are public at /dci/social/registry/..., the path the standard names.
        for path in [p for p in doc.get("paths", {}) if p.startswith("/api/registry" + DCI_PREFIX)]:
            doc["paths"][path.removeprefix("/api/registry")] = doc["paths"].pop(path)
        app.openapi_schema = doc
        return doc

    app.openapi = combined  # type: ignore[method-assign]


_SCHEMA_REF = "#/components/schemas/"


def _prefix_refs(node: Any, prefix: str) -> Any:
    """A copy of an OpenAPI fragment with every schema $ref renamed."""
    if isinstance(node, dict):
        return {
            k: (_SCHEMA_REF + prefix + v[len(_SCHEMA_REF) :])
            if k == "$ref" and isinstance(v, str) and v.startswith(_SCHEMA_REF)
            else _prefix_refs(v, prefix)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_prefix_refs(v, prefix) for v in node]
    return node
