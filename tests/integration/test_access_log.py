"""One JSON access line per request, from the gateway (services mounted) and from a service app on its own:
request id, route template, status, duration, subject; never a NIK or a query value."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from shared.auth.principal import Role
from shared.observability.logging import JsonFormatter
from tests.support.api import auth, running

NIK = "1371015501900001"


def _lines(caplog: pytest.LogCaptureFixture, request_id: str) -> list[dict[str, object]]:
    found = []
    for record in caplog.records:
        if record.name == "tepat.access":
            line = json.loads(JsonFormatter().format(record))
            if line["request_id"] == request_id:
                found.append(line)
    return found


async def test_gateway_logs_one_line_per_request_without_identifiers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(GatewaySettings(data_dir=tmp_path, demo_families=0))
    caplog.set_level(logging.INFO, logger="tepat.access")
    async with running(app) as client:
        headers = {**auth(tmp_path, Role.VERIFIKATOR, subject=f"officer-{NIK}"), "X-Request-ID": "req-1"}
        r = await client.get(f"/api/registry/families/{NIK}?nik={NIK}", headers=headers)
        assert r.status_code in {404, 422}
        await client.get("/healthz", headers={"X-Request-ID": "req-2"})
    [line] = _lines(caplog, "req-1")
    assert line["route"] == "/api/registry/families/{family_id}"
    assert line["service"] == "registry"
    assert line["status"] == r.status_code
    assert line["method"] == "GET"
    assert isinstance(line["duration_ms"], float)
    assert line["subject"] == "officer-****************"
    [health] = _lines(caplog, "req-2")
    assert health["route"] == "/healthz"
    assert health["subject"] is None
    assert health["status"] == 200
    assert NIK not in caplog.text
    assert all(NIK not in JsonFormatter().format(rec) for rec in caplog.records)


async def test_service_app_logs_its_own_requests(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from shared.auth.tokens import ensure_dev_keys

    ensure_dev_keys(tmp_path)
    app = create_registry(RegistrySettings(data_dir=tmp_path, bus="local"))
    caplog.set_level(logging.INFO, logger="tepat.access")
    async with running(app) as client:
        headers = {**auth(tmp_path, Role.VERIFIKATOR, subject="verifikator-1"), "X-Request-ID": "svc-1"}
        r = await client.get("/families/count", headers=headers)
        assert r.status_code == 200
    [line] = _lines(caplog, "svc-1")
    assert line["route"] == "/families/count"
    assert line["service"] == "registry"
    assert line["status"] == 200
    assert line["subject"] == "verifikator-1"
