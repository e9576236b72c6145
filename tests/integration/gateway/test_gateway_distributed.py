"""The distributed mode for real: each service its own uvicorn process on PostgreSQL + Kafka, the gateway proxying."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from shared.auth.principal import Role
from tests.integration.registry.helpers import family_body, kk
from tests.support.api import auth, running
from tests.support.cluster import SERVICES, Cluster, service_cluster
from tests.support.infra import Infra
from tests.support.waiting import wait_for

pytestmark = pytest.mark.infra


@pytest.fixture
async def cluster(pg_settings: Any, infra: Infra, tmp_path: Path) -> AsyncIterator[Cluster]:
    """The three services as separate processes, migrated first as Compose's `migrate` step does."""
    async with service_cluster(pg_settings, infra, tmp_path) as running_cluster:
        yield running_cluster


async def test_gateway_proxies_to_service_processes_and_events_cross_kafka(cluster: Cluster, tmp_path: Path) -> None:
    gateway = create_app(
        GatewaySettings(
            mode="distributed",
            data_dir=tmp_path,
            registry_url=cluster.url("registry"),
            verification_url=cluster.url("verification"),
            disbursement_url=cluster.url("disbursement"),
        )
    )
    headers = auth(tmp_path, Role.SYSTEM)
    async with running(gateway) as client:
        ready = await client.get("/readyz")
        assert ready.json() == {"status": "ready", "services": dict.fromkeys(SERVICES, True)}
        for name in SERVICES:
            r = await client.get(f"/api/{name}/healthz", headers={"X-Request-ID": f"req-{name}"})
            assert r.json() == {"status": "ok", "service": name}
            assert r.headers["x-request-id"] == f"req-{name}"

        emitted = await client.post("/api/registry/ops/probe?count=5", headers=headers)
        assert emitted.status_code == 202

        async def received(service: str) -> int:
            return int((await client.get(f"/api/{service}/ops/probe", headers=headers)).json()["received"])

        assert await wait_for(lambda: received("verification"), lambda n: n == 5, timeout=60) == 5
        assert await wait_for(lambda: received("disbursement"), lambda n: n == 5, timeout=60) == 5

        # The service says Location: /families/<id>; through the gateway it is the prefixed path, and it works.
        officer = auth(tmp_path, Role.VERIFIKATOR)
        created = await client.post("/api/registry/families", json=family_body(no_kk=kk(7)), headers=officer)
        assert created.status_code == 201, created.text
        location = created.headers["location"]
        assert location.startswith("/api/registry/families/")
        assert (await client.get(location, headers=officer)).json()["id"] == created.json()["id"]
        # Metrics of a service process need the system role through the gateway too.
        assert (await client.get("/api/registry/metrics", headers=officer)).status_code == 403
        assert (await client.get("/api/registry/metrics", headers=headers)).status_code == 200

        # A service that is down is a clear 503 problem, not a hang or a 500.
        cluster.procs["disbursement"].terminate()
        await asyncio.to_thread(cluster.procs["disbursement"].wait, 30)
        down = await client.get("/api/disbursement/healthz")
        assert down.status_code == 503
        assert down.json()["detail"] == "The disbursement service is unavailable."
        not_ready = await client.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["services"]["disbursement"] is False
