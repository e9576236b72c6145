"""Events through outbox → relay → Kafka → consumer (inbox + effect), against raw aiokafka in the same run.

    .venv/bin/python -m bench.events_pipeline [--events 50000] [--rate 1000] [--seconds 10]

Three measurements, each on the real PostgreSQL and Kafka:
1. raw: an idempotent aiokafka producer (acks=all) sends N envelopes and a consumer reads them back;
2. tepat throughput: N events already committed in the registry's outbox; time until verification has applied
   all N (inbox row + effect row each, offsets committed after the database commit);
3. tepat latency: events committed at a steady rate (small transactions, as requests do); commit-to-effect latency
   per event from the effect rows (received_at - occurred_at).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import time
import uuid
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import func, insert, select, text

from bench.common import OUT, machine, peak_rss_mb, scratch_database, start_infra, write_result
from services.registry.app import definition as registry_definition
from services.registry.settings import RegistrySettings
from services.verification.app import definition as verification_definition
from services.verification.settings import VerificationSettings
from shared.events.envelope import EventEnvelope, utcnow
from shared.events.topics import PROBE
from shared.runtime.probe import PROBE_EVENT, emit_probes
from shared.runtime.service import ServiceRuntime
from tests.support.kafka import start_group_at_end
from tests.support.runtimes import spawn_worker


async def raw_baseline(bootstrap: str, n: int) -> float:
    """Seconds for raw aiokafka to produce N envelopes and consume them back."""
    group = f"bench-raw-{uuid.uuid4().hex[:8]}"
    await start_group_at_end(bootstrap, group, [PROBE])
    consumer = AIOKafkaConsumer(
        PROBE, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, max_poll_records=1000
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=2, max_batch_size=256 * 1024
    )
    await consumer.start()
    await producer.start()
    now = utcnow()
    payloads = [
        EventEnvelope(
            event_type=PROBE_EVENT,
            source="bench",
            subject=f"probe-{i}",
            aggregate_version=i,
            occurred_at=now,
            recorded_at=now,
            data={"sequence": i},
        ).to_bytes()
        for i in range(n)
    ]
    try:
        start = time.perf_counter()

        async def produce() -> None:
            futures = [await producer.send(PROBE, p, key=f"probe-{i}".encode()) for i, p in enumerate(payloads)]
            await asyncio.gather(*futures)

        async def consume() -> None:
            seen = 0
            while seen < n:
                batches = await consumer.getmany(timeout_ms=200, max_records=1000)
                for tp, msgs in batches.items():
                    seen += len(msgs)
                    await consumer.commit({tp: msgs[-1].offset + 1})

        await asyncio.gather(produce(), consume())
        return time.perf_counter() - start
    finally:
        await producer.stop()
        await consumer.stop()


async def fill_outbox(runtime: ServiceRuntime, n: int) -> None:
    """Commit N probe events into the outbox in one transaction (the relay is woken by the commit)."""
    table = runtime.definition.messaging.outbox
    now = utcnow()
    chunk = 5000
    async with runtime.sessions() as session, session.begin():
        for start in range(0, n, chunk):
            rows = [
                {
                    "event_id": str(uuid.uuid4()),
                    "topic": PROBE,
                    "event_type": PROBE_EVENT,
                    "subject": f"probe-{i}",
                    "aggregate_version": i,
                    "occurred_at": now,
                    "recorded_at": now,
                    "data": f'{{"sequence":{i}}}',
                }
                for i in range(start, min(n, start + chunk))
            ]
            await session.execute(insert(table), rows)
        await runtime.outbox.signal(session)


async def count_receipts(runtime: ServiceRuntime) -> int:
    """Effect rows written by the consumer."""
    t = runtime.definition.messaging.probe_receipt
    async with runtime.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(t))).scalar_one())


async def wait_count(runtime: ServiceRuntime, n: int, timeout: float) -> None:
    """Poll until N effects exist."""
    deadline = time.monotonic() + timeout
    while await count_receipts(runtime) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {await count_receipts(runtime)} of {n} events applied")
        await asyncio.sleep(0.02)


async def run(n: int, rate: int, seconds: float) -> dict[str, Any]:
    """Run the three measurements and return the figures."""
    logging.basicConfig(level=logging.WARNING)
    logging.basicConfig(level=logging.WARNING)
    infra = await asyncio.to_thread(start_infra)
    result: dict[str, Any] = {"machine": machine(), "events": n, "rate": rate, "seconds": seconds}
    result["raw_seconds"] = await raw_baseline(infra.kafka_bootstrap, n)

    async with scratch_database(infra) as db:
        (OUT / db).mkdir(parents=True, exist_ok=True)

        def settings(cls: type[Any], **extra: Any) -> Any:
            name = cls.service_name
            return cls(
                database_url=infra.service_url(name, db),
                bus="kafka",
                kafka_bootstrap=infra.kafka_bootstrap,
                consumer_group=f"{name}-{db}",
                relay_poll_interval_ms=200,
                data_dir=OUT / db,
                **extra,
            )

        registry = ServiceRuntime(registry_definition(settings(RegistrySettings, relay_batch_size=5000)))
        verification = ServiceRuntime(verification_definition(settings(VerificationSettings)))
        await registry.migrate()
        await verification.migrate()
        await start_group_at_end(
            infra.kafka_bootstrap, f"verification-{db}", [*list(verification.definition.topics), PROBE]
        )
        # As deployed: the registry's relay and verification's consumer are separate processes.
        consumer = spawn_worker("consume", "verification", verification.settings)
        relay = spawn_worker("relay", "registry", registry.settings)
        try:
            # Warm-up: one event end to end, so group join and connections are not in the timing.
            async with registry.sessions() as session, session.begin():
                await emit_probes(session, registry.outbox, count=1, start=10**9)
            await wait_count(verification, 1, timeout=60)

            # N events in one transaction: the relay sees none of them until the commit, then all of them.
            await fill_outbox(registry, n)
            start = time.perf_counter()
            committed = utcnow()
            await wait_count(verification, n + 1, timeout=600)
            result["tepat_seconds"] = time.perf_counter() - start
            # Which half is the limit: when the relay had published the last of the N (marked in the outbox).
            outbox = registry.definition.messaging.outbox
            async with registry.sessions() as session:
                published = (await session.execute(select(func.max(outbox.c.published_at)))).scalar_one()
            result["relay_seconds"] = (published - committed).total_seconds()

            # Steady load: `rate` events/s in transactions of 10, as request handlers commit them.
            interval = 10 / rate
            ticks = int(seconds * rate / 10)
            t0 = time.perf_counter()
            for i in range(ticks):
                async with registry.sessions() as session, session.begin():
                    await emit_probes(session, registry.outbox, count=10, start=n + i * 10)
                delay = t0 + (i + 1) * interval - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            result["achieved_rate"] = ticks * 10 / (time.perf_counter() - t0)
            await wait_count(verification, n + 1 + ticks * 10, timeout=120)
            t = verification.definition.messaging.probe_receipt
            async with verification.sessions() as session:
                row = (
                    await session.execute(
                        select(
                            func.percentile_cont(0.5).within_group(t.c.received_at - t.c.occurred_at),
                            func.percentile_cont(0.99).within_group(t.c.received_at - t.c.occurred_at),
                            func.max(t.c.received_at - t.c.occurred_at),
                        ).where(t.c.sequence >= n, t.c.sequence < 10**9)
                    )
                ).one()
                dupes = (
                    await session.execute(
                        text(
                            "SELECT count(*) FROM (SELECT event_id FROM probe_receipt GROUP BY event_id "
                            "HAVING count(*) > 1) d"
                        )
                    )
                ).scalar_one()
            ms = [v / timedelta(milliseconds=1) for v in row]
            result["latency_ms"] = {"p50": ms[0], "p99": ms[1], "max": ms[2]}
            result["duplicate_effects"] = dupes
        finally:
            for proc in (relay, consumer):
                proc.send_signal(signal.SIGTERM)
                await asyncio.to_thread(proc.wait, 30)
            await registry.stop()
            await verification.stop()
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def report(r: dict[str, Any]) -> str:
    """The Markdown table for bench/RESULTS.md."""
    n = r["events"]
    raw_rate, tepat_rate = n / r["raw_seconds"], n / r["tepat_seconds"]
    m = r["machine"]
    lat = r["latency_ms"]
    return "\n".join(
        [
            f"Machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, Python {m['python']}; {m['date']}",
            "",
            "| measurement | events | seconds | events/s | ratio to raw |",
            "|---|---:|---:|---:|---:|",
            f"| raw aiokafka produce + consume | {n} | {r['raw_seconds']:.2f} | {raw_rate:,.0f} | 1.00 |",
            f"| tepat outbox → relay → Kafka → inbox + effect | {n} | {r['tepat_seconds']:.2f} | {tepat_rate:,.0f} | "
            f"{tepat_rate / raw_rate:.2f} |",
            "",
            f"Of the {r['tepat_seconds']:.2f} s, the relay had published the last event after "
            f"{r.get('relay_seconds', float('nan')):.2f} s; the rest is the consumer catching up.",
            "",
            f"Commit-to-effect latency at {r['achieved_rate']:,.0f} events/s for {r['seconds']:.0f} s: "
            f"p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms, max {lat['max']:.1f} ms. "
            f"Duplicate effects: {r['duplicate_effects']}. Relay and consumer ran as separate processes "
            "(`tepat relay registry`, `tepat consume verification`), as deployed.",
        ]
    )


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    result = asyncio.run(run(args.events, args.rate, args.seconds))
    path = write_result("events_pipeline", result)
    print(report(result))
    print(f"\n(raw figures: {path})")


if __name__ == "__main__":
    main()
