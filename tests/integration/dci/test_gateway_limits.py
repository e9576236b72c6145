"""/dci under the gateway's guard: a rate-limit bucket per partner, a body limit, refusals in the DCI spec's
HttpErrorResponse shape (embedded gateway, SQLite)."""

from __future__ import annotations

from pathlib import Path

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from services.registry.dci import spec
from shared.auth.principal import Role
from tests.integration.dci.partner import Partner, by_id, search_message
from tests.integration.registry.helpers import kk
from tests.support.api import auth, running

URL = "/dci/social/registry/sync/search"


class Clock:
    """A clock the test moves by hand: buckets refill without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _spec_error(body: object, code: str) -> None:
    assert spec.problems(spec.validator(spec.HTTP_ERROR_RESPONSE), body) == []
    assert isinstance(body, dict)
    assert body["errors"][0]["code"] == code


async def test_dci_has_a_bucket_per_partner_a_body_limit_and_spec_shaped_refusals(tmp_path: Path) -> None:
    clock = Clock()
    settings = GatewaySettings(
        data_dir=tmp_path,
        demo_families=0,
        dci_rate_limit_per_minute=60,
        dci_rate_limit_burst=3,
        dci_max_body_bytes=4096,
    )
    app = create_app(settings, clock=clock)
    bank, pos = Partner("bank.example.id", tmp_path), Partner("pos.example.id", tmp_path)
    async with running(app) as client:
        for partner in (bank, pos):
            r = await client.post(
                "/api/registry/dci/partners", json=partner.registration(), headers=auth(tmp_path, Role.SYSTEM)
            )
            assert r.status_code == 201, r.text
        message = search_message(by_id("KK", kk(1)))
        statuses = [
            (await client.post(URL, json=bank.envelope(message), headers=bank.headers())).status_code for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        limited = await client.post(URL, json=bank.envelope(message), headers=bank.headers())
        assert limited.headers["retry-after"] == "1"
        _spec_error(limited.json(), "err.request.too_many_requests")
        # Another partner has its own bucket; a second later the first may send again.
        assert (await client.post(URL, json=pos.envelope(message), headers=pos.headers())).status_code == 200
        clock.now += 1.0
        assert (await client.post(URL, json=bank.envelope(message), headers=bank.headers())).status_code == 200

        big = search_message(*[by_id("KK", kk(i)) for i in range(1, 60)])
        r = await client.post(URL, json=pos.envelope(big), headers=pos.headers())
        assert r.status_code == 413
        _spec_error(r.json(), "err.request.bad")
        r = await client.post(URL, json=pos.envelope(message))
        assert r.status_code == 401
        _spec_error(r.json(), "err.request.unauthorized")
