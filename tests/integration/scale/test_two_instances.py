"""Two instances of each service, as real processes (uvicorn, each with its relay and consumer, as Compose runs
them when scaled to two) on PostgreSQL and a three-broker Kafka: both instances answer, relay leadership moves when
its holder is SIGKILLed, consumer groups rebalance while events flow, and every service applies every event once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.auth.principal import Role
from shared.events.topics import ALL_TOPICS
from shared.runtime.service import ServiceRuntime
from tests.support.api import auth
from tests.support.cluster import SERVICES, free_port, serve
from tests.support.kafka import start_group_at_end
from tests.support.kafka_cluster import KafkaCluster
from tests.support.runtimes import receipts, unpublished
from tests.support.waiting import wait_for

pytestmark = pytest.mark.infra

ROUNDS = 12
PER_ROUND = 25


class Instance:
    """One service process on its own port."""

    def __init__(self, name: str, settings: Any, logs: Path) -> None:
        self.name = name
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] = serve(name, self.port, settings, logs / f"{name}-{self.port}.log")

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL: no shutdown, no offset commit; its lock connection simply drops."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)


async def test_two_instances_of_each_service(pg_settings: Any, kafka_cluster: KafkaCluster, tmp_path: Path) -> None:
    topics = [t.name for t in ALL_TOPICS if not t.name.endswith(".dlq")]
    settings = {name: pg_settings(cls, kafka_bootstrap=kafka_cluster.bootstrap) for name, (cls, _) in SERVICES.items()}
    runtimes = {name: ServiceRuntime(definition(settings[name])) for name, (_, definition) in SERVICES.items()}
    for name, runtime in runtimes.items():
        await runtime.migrate()
        # Earlier tests of the session left probes on the cluster: these groups start after them.
        await start_group_at_end(kafka_cluster.bootstrap, settings[name].consumer_group, topics)
    instances: dict[str, list[Instance]] = {name: [] for name in SERVICES}
    killed: list[Instance] = []

    def start(name: str) -> Instance:
        instance = Instance(name, settings[name], tmp_path)
        instances[name].append(instance)
        return instance

    try:
        async with httpx.AsyncClient(timeout=30, headers=auth(tmp_path, Role.SYSTEM)) as client:
            for name in SERVICES:
                start(name)
            await _all_ready(client, instances)
            # The first registry instance relays alone, so it holds the outbox lock before the second one starts.
            first = instances["registry"][0]
            emitted = await _emit(client, first)
            await wait_for(partial(unpublished, runtimes["registry"]), lambda n: n == 0, timeout=60, every=0.5)
            for name in SERVICES:
                start(name)
            await _all_ready(client, instances)
            for i in range(ROUNDS):
                # Either instance takes writes (one that joined a moment ago once it answers).
                serving = [r for r in instances["registry"] if await _ready(client, r)]
                emitted += await _emit(client, serving[i % len(serving)])
                if i == ROUNDS // 3:
                    # The relay leader dies: the standby must take the lock; the registry group rebalances too.
                    first.kill()
                    killed.append(first)
                    instances["registry"].remove(first)
                    start("registry")
                if i == 2 * ROUNDS // 3:
                    # One instance of each other service dies and a new one joins: two rebalances mid-stream.
                    for name in ("verification", "disbursement"):
                        victim = instances[name].pop(0)
                        victim.kill()
                        killed.append(victim)
                        start(name)
                await asyncio.sleep(0.2)
            await _all_ready(client, instances)
            await wait_for(partial(unpublished, runtimes["registry"]), lambda n: n == 0, timeout=120, every=0.5)
            for name in SERVICES:
                for instance in instances[name]:
                    # Both instances answer, and read the same state.
                    await wait_for(partial(_received, client, instance), lambda n: n >= emitted, timeout=180)
        for name, runtime in runtimes.items():
            got = await receipts(runtime)
            assert len(got) == emitted, f"{name}: every probe applied"
            assert set(got.values()) == {1}, f"{name}: a probe applied twice"
        assert all(k.proc.returncode == -signal.SIGKILL for k in killed)
    finally:
        running = [i.proc for group in instances.values() for i in group]
        for proc in running:
            proc.terminate()
        for proc in running:
            await asyncio.to_thread(proc.wait, 30)
        for runtime in runtimes.values():
            await runtime.stop()


async def _all_ready(client: httpx.AsyncClient, instances: dict[str, list[Instance]]) -> None:
    for group in instances.values():
        for instance in group:
            await wait_for(partial(_ready, client, instance), bool, timeout=180, every=0.5)


async def _ready(client: httpx.AsyncClient, instance: Instance) -> bool:
    assert instance.proc.poll() is None, f"{instance.name} on port {instance.port} exited"
    try:
        return (await client.get(f"{instance.url}/readyz")).status_code == 200
    except httpx.HTTPError:
        return False


async def _emit(client: httpx.AsyncClient, instance: Instance) -> int:
    r = await client.post(f"{instance.url}/ops/probe", params={"count": PER_ROUND})
    assert r.status_code == 202, r.text
    return PER_ROUND


async def _received(client: httpx.AsyncClient, instance: Instance) -> int:
    r = await client.get(f"{instance.url}/ops/probe")
    return int(r.json()["received"]) if r.status_code == 200 else -1
