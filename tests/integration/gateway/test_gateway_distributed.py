"""The distributed mode for real: each service its own uvicorn process on PostgreSQL + Kafka, the gateway proxying."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.disbursement.app import definition as disbursement_definition
from services.disbursement.settings import DisbursementSettings
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from services.registry.app import definition as registry_definition
from services.registry.settings import RegistrySettings
from services.verification.app import definition as verification_definition
from services.verification.settings import VerificationSettings
from shared.auth.principal import Role
from shared.events.topics import ALL_TOPICS
from shared.runtime.service import ServiceDefinition, ServiceRuntime
from tests.support.api import auth, running
from tests.support.infra import REPO, Infra
from tests.support.kafka import start_group_at_end
from tests.support.waiting import wait_for

pytestmark = pytest.mark.infra

SERVICES: dict[str, tuple[type[Any], Callable[[Any], ServiceDefinition]]] = {
    "registry": (RegistrySettings, registry_definition),
    "verification": (VerificationSettings, verification_definition),
    "disbursement": (DisbursementSettings, disbursement_definition),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(name: str, port: int, settings: Any, log: Path) -> subprocess.Popen[bytes]:
    prefix = f"TEPAT_{name.upper()}_"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEPAT_")}
    env |= {
        prefix + "DATABASE_URL": settings.resolved_database_url,
        prefix + "BUS": "kafka",
        prefix + "KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        prefix + "CONSUMER_GROUP": settings.consumer_group,
        prefix + "DATA_DIR": str(settings.data_dir),
        prefix + "RELAY_POLL_INTERVAL_MS": "200",
        prefix + "LOG_JSON": "false",
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                f"services.{name}.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
def ports() -> dict[str, int]:
    return {name: _free_port() for name in SERVICES}


@pytest.fixture
async def cluster(
    pg_settings: Any, infra: Infra, tmp_path: Path, ports: dict[str, int]
) -> AsyncIterator[dict[str, subprocess.Popen[bytes]]]:
    """The three services as separate processes, migrated first as Compose's `migrate` step does."""
    topics = [t.name for t in ALL_TOPICS if not t.name.endswith(".dlq")]
    procs: dict[str, subprocess.Popen[bytes]] = {}
    for name, (cls, definition) in SERVICES.items():
        settings = pg_settings(cls)
        runtime = ServiceRuntime(definition(settings))
        await runtime.migrate()
        await runtime.stop()
        await start_group_at_end(infra.kafka_bootstrap, settings.consumer_group, topics)
        procs[name] = _serve(name, ports[name], settings, tmp_path / f"{name}.log")
    try:
        async with httpx.AsyncClient() as client:
            for port in ports.values():

                async def ready(port: int = port) -> int:
                    try:
                        return (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code
                    except httpx.HTTPError:
                        return 0

                await wait_for(ready, lambda code: code == 200, timeout=60)
        yield procs
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            await asyncio.to_thread(proc.wait, 30)


async def test_gateway_proxies_to_service_processes_and_events_cross_kafka(
    cluster: dict[str, subprocess.Popen[bytes]], ports: dict[str, int], tmp_path: Path
) -> None:
    gateway = create_app(
        GatewaySettings(
            mode="distributed",
            data_dir=tmp_path,
            registry_url=f"http://127.0.0.1:{ports['registry']}",
            verification_url=f"http://127.0.0.1:{ports['verification']}",
            disbursement_url=f"http://127.0.0.1:{ports['disbursement']}",
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

        # A service that is down is a clear 503 problem, not a hang or a 500.
        cluster["disbursement"].terminate()
        await asyncio.to_thread(cluster["disbursement"].wait, 30)
        down = await client.get("/api/disbursement/healthz")
        assert down.status_code == 503
        assert down.json()["detail"] == "The disbursement service is unavailable."
        not_ready = await client.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["services"]["disbursement"] is False
