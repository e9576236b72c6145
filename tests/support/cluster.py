"""The distributed mode for real: each service its own uvicorn process on PostgreSQL + Kafka."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from services.disbursement.app import definition as disbursement_definition
from services.disbursement.settings import DisbursementSettings
from services.registry.app import definition as registry_definition
from services.registry.settings import RegistrySettings
from services.verification.app import definition as verification_definition
from services.verification.settings import VerificationSettings
from shared.auth.tokens import ensure_dev_keys
from shared.events.topics import ALL_TOPICS
from shared.runtime.service import ServiceDefinition, ServiceRuntime
from tests.support.infra import REPO, Infra
from tests.support.kafka import start_group_at_end
from tests.support.waiting import wait_for

SERVICES: dict[str, tuple[type[Any], Callable[[Any], ServiceDefinition]]] = {
    "registry": (RegistrySettings, registry_definition),
    "verification": (VerificationSettings, verification_definition),
    "disbursement": (DisbursementSettings, disbursement_definition),
}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(name: str, port: int, settings: Any, log: Path) -> subprocess.Popen[bytes]:
    """Start `services.<name>.app:create_app` under uvicorn, configured like `settings`, output to `log`."""
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
    command = [
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
    ]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)


@dataclass
class Cluster:
    """The running service processes and their ports."""

    ports: dict[str, int]
    procs: dict[str, subprocess.Popen[bytes]]
    logs: Path

    def url(self, name: str) -> str:
        """Base URL of one service."""
        return f"http://127.0.0.1:{self.ports[name]}"


@asynccontextmanager
async def service_cluster(pg_settings: Callable[..., Any], infra: Infra, data_dir: Path) -> AsyncIterator[Cluster]:
    """The three services as processes, migrated first as Compose's `migrate` step does, each consumer group
    starting at the end of the topics; yields once every /readyz answers 200."""
    ensure_dev_keys(data_dir)
    topics = [t.name for t in ALL_TOPICS if not t.name.endswith(".dlq")]
    cluster = Cluster(ports={name: free_port() for name in SERVICES}, procs={}, logs=data_dir)
    for name, (cls, definition) in SERVICES.items():
        settings = pg_settings(cls)
        runtime = ServiceRuntime(definition(settings))
        await runtime.migrate()
        await runtime.stop()
        await start_group_at_end(infra.kafka_bootstrap, settings.consumer_group, topics)
        cluster.procs[name] = serve(name, cluster.ports[name], settings, data_dir / f"{name}.log")
    try:
        async with httpx.AsyncClient() as client:
            for name in SERVICES:

                async def ready(name: str = name) -> int:
                    try:
                        return (await client.get(f"{cluster.url(name)}/readyz")).status_code
                    except httpx.HTTPError:
                        return 0

                await wait_for(ready, lambda code: code == 200, timeout=60)
        yield cluster
    finally:
        for proc in cluster.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in cluster.procs.values():
            await asyncio.to_thread(proc.wait, 30)
