"""Limits that hold before authentication: unauthenticated floods, client-secret guessing, oversized headers,
metrics only for the system role, and Location headers that carry the gateway prefix."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import httpx

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from shared.auth.principal import Role
from tests.integration.registry.helpers import family_body, kk
from tests.support.api import auth, running

SECRET = "s3cret-of-bank"


class Clock:
    """A clock the test moves by hand: lockouts and buckets expire without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _clients_file(tmp_path: Path) -> Path:
    path = tmp_path / "clients.json"
    digest = hashlib.sha256(SECRET.encode()).hexdigest()
    path.write_text(json.dumps([{"client_id": "bank-bri", "secret_sha256": digest, "role": "system"}]))
    return path


def _token_form(client_id: str, secret: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


async def test_missing_and_bad_tokens_run_into_the_unauthenticated_bucket(tmp_path: Path) -> None:
    settings = GatewaySettings(data_dir=tmp_path, anonymous_rate_limit_per_minute=60, anonymous_rate_limit_burst=10)
    clock = Clock()
    async with running(create_app(settings, clock=clock)) as client:
        codes = [(await client.get("/api/registry/families")).status_code for _ in range(6)]
        bad = {"Authorization": "Bearer not.a.token"}
        codes += [(await client.get("/api/registry/families", headers=bad)).status_code for _ in range(6)]
        assert codes == [401] * 10 + [429, 429]
        limited = await client.get("/api/registry/families", headers=bad)
        assert limited.status_code == 429
        assert limited.json()["code"] == "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1
        # A valid token from the same address is not held back by the flood of bad ones.
        ok = await client.get("/api/registry/families", headers=auth(tmp_path, Role.VERIFIKATOR))
        assert ok.status_code == 200
        # The bucket refills with time: one request a second at 60 a minute.
        clock.now += 1
        assert (await client.get("/api/registry/families")).status_code == 401
        assert (await client.get("/api/registry/families")).status_code == 429
        metrics = await client.get("/metrics", headers=auth(tmp_path, Role.SYSTEM))
        assert 'tepat_gateway_rejections_total{reason="unauthenticated_limited"}' in metrics.text


async def test_every_address_is_limited_before_authentication(tmp_path: Path) -> None:
    settings = GatewaySettings(
        data_dir=tmp_path,
        address_rate_limit_per_minute=60,
        address_rate_limit_burst=3,
        anonymous_rate_limit_burst=100,
    )
    headers = auth(tmp_path, Role.VERIFIKATOR)
    async with running(create_app(settings, clock=Clock())) as client:
        codes = [(await client.get("/api/registry/families", headers=headers)).status_code for _ in range(3)]
        codes.append((await client.get("/api/registry/families")).status_code)
        codes.append((await client.post("/oauth/token", data=_token_form("x", "y"))).status_code)
        assert codes == [200, 200, 200, 429, 429]


async def test_wrong_client_secrets_are_limited(tmp_path: Path) -> None:
    # The outside probe sent 200 wrong secrets and got 200 answers of 401; with the defaults most are now 429.
    settings = GatewaySettings(data_dir=tmp_path, oauth_clients_file=_clients_file(tmp_path))
    async with running(create_app(settings, clock=Clock())) as client:
        codes = [
            (await client.post("/oauth/token", data=_token_form("bank-bri", f"guess-{i}"))).status_code
            for i in range(200)
        ]
    assert set(codes) == {401, 429}
    assert codes.count(401) == settings.oauth_lockout_failures
    assert codes[-1] == 429


async def test_bad_secrets_lock_a_client_id_out_for_a_while_known_or_not(tmp_path: Path) -> None:
    settings = GatewaySettings(
        data_dir=tmp_path,
        oauth_clients_file=_clients_file(tmp_path),
        oauth_lockout_failures=3,
        oauth_lockout_s=600,
        anonymous_rate_limit_burst=1000,
    )
    clock = Clock()
    async with running(create_app(settings, clock=clock)) as client:

        async def attempt(client_id: str, secret: str) -> httpx.Response:
            return await client.post("/oauth/token", data=_token_form(client_id, secret))

        for client_id in ("bank-bri", "nobody"):
            codes = [(await attempt(client_id, "wrong")).status_code for _ in range(3)]
            assert codes == [401, 401, 401]
        known, unknown = await attempt("bank-bri", SECRET), await attempt("nobody", SECRET)
        # Locked out, even with the right secret; an unknown id is answered exactly alike (no oracle).
        for locked in (known, unknown):
            assert locked.status_code == 429
            assert locked.json()["code"] == "client_locked"
            assert locked.headers["retry-after"] == "600"
        assert known.json()["detail"] == unknown.json()["detail"]

        clock.now += 599
        assert (await attempt("bank-bri", SECRET)).headers["retry-after"] == "1"
        clock.now += 1
        assert (await attempt("bank-bri", SECRET)).status_code == 200
        assert (await attempt("nobody", SECRET)).status_code == 401
        # A right secret clears the count: two more failures do not lock, a third in a row does.
        assert [(await attempt("bank-bri", "wrong")).status_code for _ in range(2)] == [401, 401]
        assert (await attempt("bank-bri", SECRET)).status_code == 200
        assert [(await attempt("bank-bri", "wrong")).status_code for _ in range(4)] == [401, 401, 401, 429]
        # Another client id is not affected.
        assert (await attempt("someone-else", "wrong")).status_code == 401


async def test_oversized_or_too_many_headers_answer_431_before_any_parsing(tmp_path: Path) -> None:
    settings = GatewaySettings(data_dir=tmp_path, max_header_bytes=8192, max_header_count=30)
    async with running(create_app(settings)) as client:
        huge = {"Authorization": "Bearer " + "a" * (4 * 1024 * 1024)}
        for path in ("/api/registry/families", "/oauth/token", "/docs", "/healthz"):
            r = await client.get(path, headers=huge)
            assert r.status_code == 431, path
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["code"] == "headers_too_large"
        many = {f"x-filler-{i}": "1" for i in range(40)}
        assert (await client.get("/healthz", headers=many)).status_code == 431
        # Ordinary requests pass.
        ok = await client.get("/api/registry/families", headers=auth(tmp_path, Role.VERIFIKATOR))
        assert ok.status_code == 200


async def test_metrics_need_the_system_role_at_the_gateway_and_behind_it(tmp_path: Path) -> None:
    async with running(create_app(GatewaySettings(data_dir=tmp_path))) as client:
        for path in ("/metrics", "/api/registry/metrics", "/api/verification/metrics", "/api/disbursement/metrics"):
            assert (await client.get(path)).status_code == 401, path
            officer = await client.get(path, headers=auth(tmp_path, Role.VERIFIKATOR))
            assert officer.status_code == 403, path
            system = await client.get(path, headers=auth(tmp_path, Role.SYSTEM))
            assert system.status_code == 200, path
            assert "tepat_http_requests_total" in system.text
        body = (await client.get("/metrics", headers=auth(tmp_path, Role.SYSTEM))).text
        # Requests by route template and status, not by raw path (ids would explode the label set).
        assert 'service="gateway"' in body
        assert 'route="/metrics",service="gateway",status="200"' in body
        assert 'route="/api/registry/metrics",service="gateway",status="200"' in body
        assert 'route="/metrics",service="registry",status="200"' in body
        assert 'tepat_gateway_rejections_total{reason="forbidden_metrics"}' in body


async def test_location_headers_carry_the_gateway_prefix_in_embedded_mode(tmp_path: Path) -> None:
    headers = auth(tmp_path, Role.VERIFIKATOR)
    family = family_body(no_kk=kk(1))
    async with running(create_app(GatewaySettings(data_dir=tmp_path))) as client:
        r = await client.post("/api/registry/families", json=family, headers=headers)
        assert r.status_code == 201, r.text
        location = r.headers["location"]
        assert location.startswith("/api/registry/families/")
        assert (await client.get(location, headers=headers)).status_code == 200


async def test_api_docs_and_every_asset_they_reference_come_from_the_gateway(tmp_path: Path) -> None:
    async with running(create_app(GatewaySettings(data_dir=tmp_path))) as client:
        for page in ("/docs", "/redoc"):
            r = await client.get(page)
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/html")
            csp = r.headers["content-security-policy"]
            script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
            assert script_src.split() == ["script-src", "'self'"]
            refs = re.findall(r'(?:src|href|spec-url)="([^"]+)"', r.text)
            assert refs, page
            assert not [u for u in refs if not u.startswith("/")], f"{page} refers to another origin: {refs}"
            assert "<script>" not in r.text  # no inline script
            for ref in refs:
                asset = await client.get(ref)
                assert asset.status_code == 200, ref
                assert len(asset.content) > 0, ref
            # The assets the pages start from are the real bundles, not placeholders.
            if page == "/docs":
                init = (await client.get("/docs/assets/swagger-init.js")).text
                assert 'url: "/openapi.json"' in init
                assert "SwaggerUIBundle" in (await client.get("/docs/assets/swagger-ui-bundle.js")).text
        assert (await client.get("/docs/assets/../settings.py")).status_code == 404
        assert (await client.get("/docs/assets/core.py")).status_code == 404
