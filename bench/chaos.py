"""Chaos run (issue 16): a synthetic city flows registry → Kafka → verification and disbursement while random
faults hit it, then the pipeline drains and SQL checks that nothing was lost, applied twice, reordered or left
diverged.

    python -m bench.chaos [--families 20000] [--faults 20] [--seed 16]

Everything runs on servers of its own, never the shared test servers: a durable PostgreSQL cluster
(`deploy/scripts/postgres.sh durable`, synchronous_commit=on, so a crash loses no acknowledged commit) and a
three-broker Kafka (`deploy/scripts/kafka.sh cluster`, replication factor 3, min.insync.replicas=2). Each service
runs as three processes, as a supervisor would keep them: a web app (with its own relay and consumer), a
`tepat relay` and a `tepat consume`. The city is imported with `tepat import-extract`/`import-list` (a previous
quarter, the changed current quarter, the death list, the excluded-occupation list; an import that a fault
interrupts is run again, as an operator would). Faults: SIGKILL of a relay, a consumer or a web process (restarted
after a moment), a Kafka broker killed and restarted, PostgreSQL stopped (fast) or crashed (immediate) and
restarted. The figures go to bench/out/chaos-<time>.json; bench/RESULTS.md quotes them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from bench.common import OUT, machine, write_result
from shared.auth.tokens import ensure_dev_keys
from shared.events.topics import REGISTRY_HOUSEHOLD
from tests.support.cluster import SERVICES, free_port, serve
from tests.support.durable_pg import DurablePostgres, remove_durable_postgres, start_durable_postgres
from tests.support.infra import REPO, create_database
from tests.support.kafka_cluster import NODES, KafkaCluster, remove_kafka_cluster, start_kafka_cluster
from tests.support.runtimes import service_env, spawn_worker

FAULT_KINDS = ("sigkill_relay", "sigkill_consumer", "sigkill_web", "kafka_broker", "postgres_restart")
# Read models that must equal the registry's family row; the column names are the same in all three schemas.
COMPARED = ("kelurahan_code", "data_status", "desil", "desil_period", "version")
READ_MODELS = {"verification": "verification.household", "disbursement": "disbursement.household_status"}


@dataclass
class Process:
    """One supervised service process: what it is and how to start it again."""

    service: str
    role: str  # web, relay or consume
    proc: subprocess.Popen[bytes]


@dataclass
class Fleet:
    """The service processes, restarted after a SIGKILL like a supervisor (systemd, Compose) would."""

    settings: dict[str, Any]
    logs: Path
    procs: list[Process] = field(default_factory=list)

    def start(self, service: str, role: str) -> Process:
        """Start one process of `service` in `role`."""
        s = self.settings[service]
        if role == "web":
            port = free_port()
            proc = serve(service, port, s, self.logs / f"web-{service}-{port}.log")
        else:
            proc = spawn_worker(role, service, s)
        p = Process(service, role, proc)
        self.procs.append(p)
        return p

    async def kill_and_restart(self, rng: random.Random, role: str) -> str:
        """SIGKILL one process of `role`, then start its replacement after half a second to two seconds."""
        victim = rng.choice([p for p in self.procs if p.role == role])
        victim.proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(victim.proc.wait, 30)
        self.procs.remove(victim)
        await asyncio.sleep(rng.uniform(0.5, 2.0))
        self.start(victim.service, role)
        return f"{role} {victim.service}"

    def revive(self) -> int:
        """Start again any process that ended on its own (none should); returns how many."""
        dead = [p for p in self.procs if p.proc.poll() is not None]
        for p in dead:
            self.procs.remove(p)
            self.start(p.service, p.role)
        return len(dead)

    async def stop(self) -> None:
        """Terminate everything and wait."""
        for p in self.procs:
            if p.proc.poll() is None:
                p.proc.terminate()
        for p in self.procs:
            await asyncio.to_thread(p.proc.wait, 60)


@dataclass
class Chaos:
    """The servers, the fleet and the fault log of one run."""

    pg: DurablePostgres
    kafka: KafkaCluster
    fleet: Fleet
    rng: random.Random
    faults: list[dict[str, Any]] = field(default_factory=list)

    @property
    def postgres_restarts(self) -> int:
        """PostgreSQL restarts so far."""
        return sum(f["kind"] == "postgres_restart" for f in self.faults)

    async def fault(self, *, allow_postgres: bool = True) -> None:
        """Inflict one random fault and recover from it."""
        kind = self.rng.choice([k for k in FAULT_KINDS if allow_postgres or k != "postgres_restart"])
        started = time.monotonic()
        if kind.startswith("sigkill_"):
            role = {"sigkill_relay": "relay", "sigkill_consumer": "consume", "sigkill_web": "web"}[kind]
            what = await self.fleet.kill_and_restart(self.rng, role)
        elif kind == "kafka_broker":
            node = self.rng.choice(NODES)
            await asyncio.to_thread(self.kafka.kill, node)
            await asyncio.sleep(self.rng.uniform(3, 8))
            await asyncio.to_thread(self.kafka.start_node, node)
            what = f"broker {node} SIGKILL"
        else:
            crash = self.rng.random() < 0.5
            await asyncio.to_thread(self.pg.crash if crash else self.pg.stop)
            await asyncio.sleep(self.rng.uniform(1, 4))
            await asyncio.to_thread(self.pg.start)
            what = "immediate (crash)" if crash else "fast"
        self.faults.append({"kind": kind, "what": what, "seconds": round(time.monotonic() - started, 1)})
        print(f"chaos: fault {len(self.faults)}: {kind} ({what})", flush=True)


async def run_import(settings: Any, args: list[str], logs: Path) -> int:
    """Run one `tepat import-…` until it succeeds (a fault may interrupt it); returns the attempts."""
    env = service_env("registry", settings)
    for attempt in range(1, 31):
        log = logs / f"import-{args[0]}-{Path(args[-1]).stem}-{attempt}.log"
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "services.cli", *args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
            )
            code = await proc.wait()
        if code == 0:
            return attempt
        print(f"chaos: {' '.join(args[:2])} {Path(args[-1]).name} failed (exit {code}), again", flush=True)
        await asyncio.sleep(3)
    raise RuntimeError(f"{args} failed 30 times; see {logs}")


async def check(admin_url: str) -> dict[str, Any]:
    """The SQL checks after the drain."""
    conn = await asyncpg.connect(admin_url)
    try:
        out: dict[str, Any] = {}
        out["unpublished"] = {
            s: await conn.fetchval(f"SELECT count(*) FROM {s}.outbox WHERE published_at IS NULL") for s in SERVICES
        }
        out["events"] = {s: await conn.fetchval(f"SELECT count(*) FROM {s}.outbox") for s in SERVICES}
        out["household_events"] = await conn.fetchval(
            "SELECT count(*) FROM registry.outbox WHERE topic = $1", REGISTRY_HOUSEHOLD
        )
        out["families"] = await conn.fetchval("SELECT count(*) FROM registry.family")
        for svc, table in READ_MODELS.items():
            # Lost: a household event the consumer never took in (the inbox keeps one row per event id, so an
            # event applied twice would need a second effect without an inbox row: checked by the versions).
            out[f"{svc}_lost"] = await conn.fetchval(
                f"SELECT count(*) FROM registry.outbox o WHERE o.topic = $1"
                f" AND NOT EXISTS (SELECT 1 FROM {svc}.inbox i WHERE i.event_id = o.event_id)",
                REGISTRY_HOUSEHOLD,
            )
            out[f"{svc}_dead_letters"] = await conn.fetchval(f"SELECT count(*) FROM {svc}.dead_letter")
            # Order per family: in the partition order the consumer took them in, versions only grow.
            out[f"{svc}_order_violations"] = await conn.fetchval(
                f"""SELECT count(*) FROM (
                      SELECT o.aggregate_version < lag(o.aggregate_version) OVER w AS back
                      FROM {svc}.inbox i JOIN registry.outbox o ON o.event_id = i.event_id
                      WHERE i.topic = $1
                      WINDOW w AS (PARTITION BY i.subject ORDER BY i.partition, i."offset")
                    ) x WHERE back""",
                REGISTRY_HOUSEHOLD,
            )
            differs = " OR ".join(f"f.{c} IS DISTINCT FROM r.{c}" for c in COMPARED)
            out[f"{svc}_diverged"] = await conn.fetchval(
                f"SELECT count(*) FROM registry.family f LEFT JOIN {table} r ON r.household_id = f.id"
                f" WHERE r.household_id IS NULL OR {differs}"
            )
            # A duplicate effect would apply a version twice: the inbox holds every event id at most once
            # (primary key), so any second claim of the same family version shows here.
            out[f"{svc}_duplicates"] = await conn.fetchval(
                f"""SELECT count(*) - count(DISTINCT (o.subject, o.aggregate_version))
                    FROM {svc}.inbox i JOIN registry.outbox o ON o.event_id = i.event_id WHERE i.topic = $1""",
                REGISTRY_HOUSEHOLD,
            )
        # One grouped pass over the outbox (a correlated max per family would scan it once per family).
        out["registry_version_matches_events"] = await conn.fetchval(
            "SELECT count(*) FROM registry.family f JOIN (SELECT subject, max(aggregate_version) AS v"
            " FROM registry.outbox WHERE topic = $1 GROUP BY subject) o ON o.subject = f.id WHERE f.version <> o.v",
            REGISTRY_HOUSEHOLD,
        )
        return out
    finally:
        await conn.close()


async def converged(admin_url: str) -> bool:
    """Everything published and every household event taken in by both consumers (cheap: polled while
    draining; `check` runs once at the end)."""
    conn = await asyncpg.connect(admin_url)
    try:
        for s in SERVICES:
            if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {s}.outbox WHERE published_at IS NULL)"):
                return False
        for svc in READ_MODELS:
            taken = await conn.fetchval(f"SELECT count(*) FROM {svc}.inbox WHERE topic = $1", REGISTRY_HOUSEHOLD)
            sent = await conn.fetchval("SELECT count(*) FROM registry.outbox WHERE topic = $1", REGISTRY_HOUSEHOLD)
            if taken < sent:
                return False
        return True
    finally:
        await conn.close()


async def run(
    *, families: int, faults: int, seed: int = 16, kafka: KafkaCluster | None = None, drain_timeout: float = 900
) -> dict[str, Any]:
    """One chaos run; returns the figures (the checks under `checks`)."""
    rng = random.Random(seed)
    work = OUT / f"chaos-{time.strftime('%Y%m%d-%H%M%S')}-{families}"
    work.mkdir(parents=True, exist_ok=True)
    print(f"chaos: {families:,} families, ≥ {faults} faults; work folder {work}", flush=True)
    city = work / "city"
    from demo.generator import generate_city, previous_periods

    period = "2026-Q3"
    await asyncio.to_thread(generate_city, city, families_count=families, seed=seed, period=period, quarters=2)
    previous = previous_periods(period, 2)[0]
    own_kafka = kafka is None
    cluster = kafka if kafka is not None else await asyncio.to_thread(start_kafka_cluster)
    pg = await asyncio.to_thread(start_durable_postgres, cluster.bootstrap)
    fleet: Fleet | None = None
    try:
        infra = pg.infra
        db = await create_database(infra, "chaos")
        ensure_dev_keys(work)
        settings = {
            name: cls(
                database_url=infra.service_url(name, db),
                bus="kafka",
                kafka_bootstrap=cluster.bootstrap,
                consumer_group=f"{name}-{db}",
                data_dir=work,
                relay_poll_interval_ms=200,
            )
            for name, (cls, _) in SERVICES.items()
        }
        from shared.runtime.service import ServiceRuntime

        for name, (_, definition) in SERVICES.items():
            runtime = ServiceRuntime(definition(settings[name]))
            await runtime.migrate()
            await runtime.stop()
        fleet = Fleet(settings=settings, logs=work)
        for name in SERVICES:
            for role in ("web", "relay", "consume"):
                fleet.start(name, role)
        chaos = Chaos(pg=pg, kafka=cluster, fleet=fleet, rng=rng)
        imports = [
            ["import-extract", str(city / f"extract_{previous}.csv")],
            ["import-extract", str(city / "extract.csv")],
            ["import-list", "death", str(city / "death_list.csv")],
            ["import-list", "excluded", str(city / "excluded_list.csv")],
        ]
        started = time.monotonic()

        async def importer() -> list[int]:
            return [await run_import(settings["registry"], args, work) for args in imports]

        importing = asyncio.create_task(importer())
        await asyncio.sleep(5)
        # Faults at random moments for as long as the imports run, and at least `faults` of them. An import that
        # a PostgreSQL restart interrupts starts again from the beginning, so those are capped at one in five:
        # more and a large import might never finish.
        while not importing.done() or len(chaos.faults) < faults:
            await chaos.fault(allow_postgres=chaos.postgres_restarts < max(1, faults // 5))
            await asyncio.sleep(rng.uniform(1, 5))
        attempts = await importing
        faults_done = time.monotonic()
        revived = fleet.revive()
        drained_after: float | None = None
        while time.monotonic() - faults_done < drain_timeout:
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                if await converged(infra.admin_url(db)):
                    drained_after = time.monotonic() - faults_done
                    break
            await asyncio.sleep(2)
        checks = await check(infra.admin_url(db))
        result = {
            "machine": machine(),
            "families": families,
            "seed": seed,
            "import_attempts": attempts,
            "faults": chaos.faults,
            "faults_by_kind": dict(Counter(f["kind"] for f in chaos.faults)),
            "processes_found_dead": revived,
            "flow_seconds": round(faults_done - started, 1),
            "drain_seconds": None if drained_after is None else round(drained_after, 1),
            "checks": checks,
        }
        result["summary"] = summary(result)
        write_result(f"chaos-{families}", result)
        (work / "result.json").write_text(json.dumps(result, indent=2, default=str))
        return result
    finally:
        if fleet is not None:
            await fleet.stop()
        await asyncio.to_thread(remove_durable_postgres, pg)
        if own_kafka:
            await asyncio.to_thread(remove_kafka_cluster, cluster)


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """The figures RESULTS.md quotes."""
    c = result["checks"]
    return {
        "events": sum(c["events"].values()),
        "household_events": c["household_events"],
        "faults": len(result["faults"]),
        "faults_by_kind": result["faults_by_kind"],
        "unpublished": sum(c["unpublished"].values()),
        "lost": sum(c[f"{s}_lost"] for s in READ_MODELS),
        "duplicated": sum(c[f"{s}_duplicates"] for s in READ_MODELS),
        "order_violations": sum(c[f"{s}_order_violations"] for s in READ_MODELS),
        "diverged": sum(c[f"{s}_diverged"] for s in READ_MODELS),
        "dead_letters": sum(c[f"{s}_dead_letters"] for s in READ_MODELS),
        "drain_seconds": result["drain_seconds"],
    }


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--families", type=int, default=20_000)
    parser.add_argument("--faults", type=int, default=20)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    result = asyncio.run(run(families=args.families, faults=args.faults, seed=args.seed))
    print(json.dumps(result["summary"], indent=2))
    s = result["summary"]
    ok = s["lost"] == s["duplicated"] == s["diverged"] == s["order_violations"] == s["unpublished"] == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
