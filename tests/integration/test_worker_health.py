"""`tepat worker` serves /healthz with each task's liveness and lag, and /metrics."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.cli import STOP_DEADLINE_S, STUCK_EXIT_STATUS
from services.registry.app import create_app
from services.registry.app import definition as registry_definition
from services.registry.settings import RegistrySettings
from shared.runtime.probe import emit_probes
from shared.runtime.service import ServiceRuntime
from tests.support.api import running
from tests.support.cluster import free_port
from tests.support.runtimes import spawn_worker, terminate
from tests.support.waiting import wait_for

pytestmark = pytest.mark.infra


async def test_worker_reports_liveness_and_lag(pg_settings: Any) -> None:
    settings = pg_settings(RegistrySettings)
    runtime = ServiceRuntime(registry_definition(settings))
    await runtime.migrate()
    async with runtime.sessions() as session, session.begin():
        await emit_probes(session, runtime.outbox, count=4)
    port = free_port()
    proc = spawn_worker("worker", "registry", settings, health_port=port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:

            async def health() -> dict[str, Any]:
                try:
                    r = await client.get("/healthz")
                except httpx.HTTPError:
                    return {}
                body: dict[str, Any] = r.json()
                body["http_status"] = r.status_code
                return body

            def settled(b: dict[str, Any]) -> bool:
                # The relay commits a batch as published before it reports the round done: a poll in between sees
                # no lag yet `starting`, so wait for both.
                relay = b.get("tasks", {}).get("relay", {})
                return bool(relay.get("lag", {}).get("unpublished") == 0 and relay.get("state") == "running")

            body = await wait_for(health, settled, timeout=60)
            assert body["http_status"] == 200
            assert body["service"] == "registry"
            relay, consumer = body["tasks"]["relay"], body["tasks"]["consumer"]
            assert relay["alive"] is True
            assert relay["state"] == "running"
            assert relay["leader"] is True
            assert relay["restarts"] == 0
            assert consumer["alive"] is True
            assert isinstance(consumer["lag"], int)
            metrics = (await client.get("/metrics")).text
            assert 'tepat_worker_up{service="registry",task="relay"} 1.0' in metrics
            assert 'tepat_outbox_unpublished{service="registry"} 0.0' in metrics
    finally:
        status = terminate(proc)
        await runtime.stop()
    # A stuck stop ends with 70 and the stuck tasks' stacks in the log: show them.
    assert status == 0, next(settings.data_dir.glob("worker-registry-*.log")).read_text()[-6000:]


async def test_a_worker_whose_stop_hangs_still_exits_and_says_what_hung(pg_settings: Any) -> None:
    """Docker sends SIGKILL 10 s after SIGTERM without a word: the worker ends itself before that, naming the stuck
    tasks in its log."""
    settings = pg_settings(RegistrySettings)
    runtime = ServiceRuntime(registry_definition(settings))
    await runtime.migrate()
    await runtime.stop()
    port = free_port()
    proc = spawn_worker("worker", "registry", settings, failpoints="worker_stop_stalls", health_port=port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:

            async def health() -> int:
                try:
                    return (await client.get("/healthz")).status_code
                except httpx.HTTPError:
                    return 0

            assert await wait_for(health, lambda status: status == 200, timeout=60) == 200
    finally:
        status = terminate(proc)
    assert status == STUCK_EXIT_STATUS
    log = next(settings.data_dir.glob("worker-registry-*.log")).read_text()
    assert f"registry: worker did not stop within {STOP_DEADLINE_S:.0f}s of the signal; still pending:" in log
    assert "stall" in log  # the stack of the hung step names it


async def test_a_web_only_instance_is_ready_on_its_database_alone(pg_settings: Any) -> None:
    """Scaled out, the web instances leave the bus to `tepat relay|consume|worker`: no broker, still ready."""
    settings = pg_settings(RegistrySettings, auto_migrate=True, run_workers=False, kafka_bootstrap="127.0.0.1:9")
    async with running(create_app(settings)) as client:
        r = await client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {"database": True}
