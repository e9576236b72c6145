"""The gateway's front door: authentication, rate limits, body limits, headers, CORS, client credentials."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import jwt

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from shared.auth.principal import Role
from tests.support.api import auth, running


async def test_api_needs_a_valid_token_but_health_and_docs_do_not(tmp_path: Path) -> None:
    async with running(create_app(GatewaySettings(data_dir=tmp_path))) as client:
        assert (await client.get("/api/registry/healthz")).status_code == 200
        assert (await client.get("/api/registry/openapi.json")).status_code == 200
        r = await client.get("/api/registry/families")
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
        r = await client.get("/api/registry/families", headers={"Authorization": "Bearer not.a.token"})
        assert r.status_code == 401
        assert r.json()["code"] == "invalid_token"
        # A POST to a health path is not public.
        assert (await client.post("/api/registry/healthz")).status_code == 401
        ok = await client.get("/api/registry/families", headers=auth(tmp_path, Role.VERIFIKATOR))
        assert ok.status_code == 200


async def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    settings = GatewaySettings(data_dir=tmp_path, rate_limit_per_minute=60, rate_limit_burst=5)
    headers = auth(tmp_path, Role.VERIFIKATOR, subject="busy-client")
    async with running(create_app(settings)) as client:
        codes = [(await client.get("/api/registry/families", headers=headers)).status_code for _ in range(7)]
        assert codes[:5] == [200] * 5
        assert codes[5:] == [429, 429]
        limited = await client.get("/api/registry/families", headers=headers)
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["code"] == "rate_limited"
        # Another client is not affected by the first one's burst.
        other = auth(tmp_path, Role.VERIFIKATOR, subject="quiet-client")
        assert (await client.get("/api/registry/families", headers=other)).status_code == 200


async def test_body_size_limit_for_declared_and_streamed_bodies(tmp_path: Path) -> None:
    settings = GatewaySettings(data_dir=tmp_path, max_body_bytes=1024)
    headers = auth(tmp_path, Role.VERIFIKATOR) | {"Content-Type": "application/json"}
    async with running(create_app(settings)) as client:
        big = json.dumps({"alamat": "x" * 2000})
        r = await client.post("/api/registry/families", content=big, headers=headers)
        assert r.status_code == 413
        assert r.json()["code"] == "body_too_large"

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(4):
                yield b"x" * 600

        r = await client.post("/api/registry/families", content=chunks(), headers=headers)
        assert r.status_code == 413


async def test_security_headers_and_no_store_on_api(tmp_path: Path) -> None:
    async with running(create_app(GatewaySettings(data_dir=tmp_path))) as client:
        r = await client.get("/api/registry/healthz")
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in r.headers["content-security-policy"]
        docs = await client.get("/docs")
        # The docs page loads its scripts from this gateway only: no inline script, no other origin.
        csp = docs.headers["content-security-policy"]
        assert "script-src 'self';" in csp
        assert "default-src 'none'" in csp


async def test_cors_only_for_configured_origins(tmp_path: Path) -> None:
    settings = GatewaySettings(data_dir=tmp_path, cors_origins=["https://dashboard.padang.go.id"])
    async with running(create_app(settings)) as client:
        allowed = await client.options(
            "/api/registry/healthz",
            headers={"Origin": "https://dashboard.padang.go.id", "Access-Control-Request-Method": "GET"},
        )
        assert allowed.headers["access-control-allow-origin"] == "https://dashboard.padang.go.id"
        refused = await client.options(
            "/api/registry/healthz",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in refused.headers


async def test_client_credentials_grant_and_jwks(tmp_path: Path) -> None:
    secret = "s3cret-of-bank"
    clients = tmp_path / "clients.json"
    clients.write_text(
        json.dumps(
            [
                {
                    "client_id": "bank-bri",
                    "secret_sha256": hashlib.sha256(secret.encode()).hexdigest(),
                    "role": "system",
                    "wilayah": "13.71",
                    "name": "BRI payer reports",
                }
            ]
        )
    )
    settings = GatewaySettings(data_dir=tmp_path, oauth_clients_file=clients)
    async with running(create_app(settings)) as client:
        r = await client.post(
            "/oauth/token", data={"grant_type": "client_credentials", "client_id": "bank-bri", "client_secret": secret}
        )
        assert r.status_code == 200
        body = r.json()
        assert body["token_type"] == "Bearer"
        token = body["access_token"]
        claims = jwt.decode(token, options={"verify_signature": False})
        assert (claims["sub"], claims["role"], claims["client_type"]) == ("client:bank-bri", "system", "system")

        basic = base64.b64encode(f"bank-bri:{secret}".encode()).decode()
        r = await client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
        )
        assert r.status_code == 200

        bad = await client.post(
            "/oauth/token", data={"grant_type": "client_credentials", "client_id": "bank-bri", "client_secret": "wrong"}
        )
        assert bad.status_code == 401
        assert bad.json()["code"] == "invalid_client"
        unknown = await client.post(
            "/oauth/token", data={"grant_type": "client_credentials", "client_id": "nobody", "client_secret": secret}
        )
        assert unknown.status_code == 401
        grant = await client.post("/oauth/token", data={"grant_type": "password"})
        assert grant.status_code == 400

        probe = await client.post("/api/registry/ops/probe", headers={"Authorization": f"Bearer {token}"})
        assert probe.status_code == 202
        jwks = (await client.get("/.well-known/jwks.json")).json()
        assert [k["kid"] for k in jwks["keys"]] == [jwt.get_unverified_header(token)["kid"]]
