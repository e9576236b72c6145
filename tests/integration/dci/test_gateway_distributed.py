"""DCI through the gateway in distributed mode: the gateway proxies /dci/social/registry/ to a registry process."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from services.registry.app import definition
from services.registry.settings import RegistrySettings
from shared.auth.principal import Role
from shared.runtime.service import ServiceRuntime
from tests.integration.dci.partner import Partner, by_id, search_message
from tests.integration.registry.helpers import HEAD_NIK, family_body, kk
from tests.support.api import auth, running
from tests.support.cluster import free_port, serve
from tests.support.waiting import wait_for

pytestmark = pytest.mark.infra


async def test_partner_search_through_the_distributed_gateway(pg_settings: Any, tmp_path: Path) -> None:
    settings = pg_settings(RegistrySettings)
    runtime = ServiceRuntime(definition(settings))
    await runtime.migrate()
    await runtime.stop()
    port = free_port()
    proc = serve("registry", port, settings, tmp_path / "registry.log")
    try:
        async with httpx.AsyncClient() as probe:

            async def ready() -> int:
                try:
                    return (await probe.get(f"http://127.0.0.1:{port}/healthz")).status_code
                except httpx.HTTPError:
                    return 0

            await wait_for(ready, lambda code: code == 200, timeout=60)
        gateway = create_app(
            GatewaySettings(mode="distributed", data_dir=tmp_path, registry_url=f"http://127.0.0.1:{port}")
        )
        async with running(gateway) as client:
            made = await client.post(
                "/api/registry/families", json=family_body(no_kk=kk(1)), headers=auth(tmp_path, Role.VERIFIKATOR)
            )
            assert made.status_code == 201, made.text
            bank = Partner("bank.example.id", tmp_path)
            registered = await client.post(
                "/api/registry/dci/partners", json=bank.registration(), headers=auth(tmp_path, Role.SYSTEM)
            )
            assert registered.status_code == 201, registered.text
            body = bank.envelope(search_message(by_id("KK", kk(1))))
            r = await client.post("/dci/social/registry/sync/search", json=body, headers=bank.headers())
            assert r.status_code == 200, r.text
            group = r.json()["message"]["search_response"][0]["data"]["reg_records"][0]
            assert group["household_identifier"] == made.json()["id"]
            assert group["members"][0]["identifier"][0]["identifier_value"] == HEAD_NIK
            forged = bank.envelope(search_message(by_id("KK", kk(1))))
            forged["header"]["sender_id"] = "someone.else"
            refused = await client.post("/dci/social/registry/sync/search", json=forged, headers=bank.headers())
            assert refused.status_code == 403
            assert refused.json()["errors"][0]["code"] == "err.sender_id.invalid"
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 30)
