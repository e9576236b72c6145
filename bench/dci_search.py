"""DCI sync/search by NIK through the gateway at a fixed arrival rate (issue #15, target p99 < 20 ms at 200/s),
and notify throughput from a bulk import to a local subscriber.

    .venv/bin/python -m bench.dci_search [--families 2000] [--rate 200] [--seconds 10]
    .venv/bin/python -m bench.dci_search --notify-families 10000
    .venv/bin/python -m bench.dci_search --families 300 --rate 50 --seconds 4 --sequential 1000

Sequential: CPU of each process per signed search with no queueing, N sent one at a time straight to the registry
and N through the gateway (and, as in every mode, the registry's CPU per family created during the seeding).

Notify: a partner subscribed to every family of Padang (REGISTER, filter `wilayah eq 13.71`); a synthetic extract
of `--notify-families` families imported with `tepat import-extract` (child process); then the registry's own
`household.registered` events are handed to the DCI inbox handler in the consumer's batches (`queue` events/s), and
the `dci-callbacks` delivery runs until every notify reached a local HTTP subscriber (`deliver` events/s; lag =
delivered_at minus the event's recorded time, which includes the import and queue phases). Raw baseline, same run:
the same signed bodies POSTed one after another to the same subscriber without Tepat.

The registry (PostgreSQL scratch database) and the gateway (distributed mode) run as their own uvicorn processes,
as in production. A partner is registered, `--families` families are created through the registry's API, then
signed search messages (one NIK each, a new message id each: every request is verified, searched and audited)
are sent open-loop (latency counted from each request's scheduled time) after a warm-up at the same rate.

Raw baseline, same run, every mode: right after Tepat's processes stop, the same requests at the same rate (or in
turn) through `bench/raw_search.py`, a bare ASGI gateway and registry doing one SELECT on the same database; `vs_raw`
gives Tepat's latency and CPU figures over the baseline's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select

from bench.common import machine, scratch_database, start_infra, write_result
from bench.gateway_overhead import _free_port, _serve, _wait_ready
from bench.registry_import import child_import, cpu_seconds, exchange, migrate_registry, open_loop
from demo.generator import generate_city
from services.registry.app import definition
from services.registry.dci import repository as dci_repository
from services.registry.dci.delivery import Policy, Signer, deliver_due
from services.registry.dci.models import dci_callback
from services.registry.dci.notify import queue_notifications
from services.registry.dci.signature import sign
from services.registry.domain.identifiers import today_wib
from services.registry.settings import RegistrySettings
from shared.auth.principal import Role
from shared.auth.tokens import PRIVATE_KEY_NAME, ensure_dev_keys, issue_dev_token
from shared.events.envelope import EventEnvelope, utcnow
from shared.events.topics import REGISTRY_HOUSEHOLD
from shared.runtime.service import ServiceRuntime
from tests.integration.dci.receiver import Receiver

PATH = "/dci/social/registry/sync/search"
SENDER = "bench-bank.example.id"
TARGET_P99_MS = 20.0


def _family(serial: int) -> dict[str, Any]:
    head = f"137101150580{serial:04d}"
    return {
        "no_kk": f"137101010115{serial:04d}",
        "head_nik": head,
        "address": "Jl. Bench",
        "rt": "1",
        "rw": "1",
        "kelurahan_code": "13.71.01.1001",
        "members": [{"nik": head, "name": f"Kepala {serial}", "relationship": "kepala_keluarga"}],
    }


def _request(key: Ed25519PrivateKey, nik: str, token: str) -> bytes:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    message = {
        "transaction_id": str(uuid.uuid4()),
        "search_request": [
            {
                "reference_id": "r1",
                "timestamp": now,
                "search_criteria": {"query_type": "idtype-value", "query": {"type": "NIK", "value": nik}},
            }
        ],
    }
    header = {
        "message_id": str(uuid.uuid4()),
        "message_ts": now,
        "action": "search",
        "sender_id": SENDER,
        "total_count": 1,
    }
    # Valid for the whole run: signatures are made before the clock starts.
    signature = sign(
        key, sender_id=SENDER, key_id="b", header=header, message=message, now=int(time.time()), ttl_s=3600
    )
    payload = json.dumps({"signature": signature, "header": header, "message": message}).encode()
    return (
        f"POST {PATH} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload


async def _send_in_turn(port: int, requests: list[bytes]) -> None:
    """Send one request at a time on one kept-alive connection; every answer must be 200."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for request in requests:
            status = await exchange(reader, writer, request)
            if status != 200:
                raise RuntimeError(f"a signed search was answered {status}")
    finally:
        writer.close()


async def wait_quiet(pid: int, *, below: float = 0.05, timeout: float = 300) -> float:
    """Wait until the process has used under `below` of a core for a whole second (the seeding's events relayed
    and handled: measured work must not share the process with it); returns the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        before = cpu_seconds()[pid][0]
        await asyncio.sleep(1)
        if cpu_seconds()[pid][0] - before < below:
            break
    return round(time.perf_counter() - started, 1)


async def sequential_cpu(ports: dict[str, int], servers: dict[str, int], requests: list[bytes]) -> dict[str, Any]:
    """CPU per request of each server, requests sent one at a time (no queueing): straight to the registry, then
    through the gateway, half of `requests` each."""
    out: dict[str, Any] = {}
    half = len(requests) // 2
    for target, batch in (("registry", requests[:half]), ("gateway", requests[half:])):
        before, started = cpu_seconds(), time.perf_counter()
        await _send_in_turn(ports[target], batch)
        after, wall = cpu_seconds(), time.perf_counter() - started
        out[f"via_{target}"] = {
            "requests": len(batch),
            "wall_ms_each": round(1000 * wall / len(batch), 2),
            **{
                f"{name}_cpu_ms_each": round(1000 * (after[pid][0] - before[pid][0]) / len(batch), 2)
                for name, pid in servers.items()
            },
        }
    return out


async def run(
    families: int,
    rate: int,
    seconds: float,
    connections: int,
    profile: Path | None = None,
    workers: int = 1,
    sequential: int = 0,
    gateway_workers: int | None = None,
) -> dict[str, Any]:
    """Start registry and gateway, seed, measure, stop; returns the figures."""
    infra = start_infra()
    data_dir = Path(tempfile.mkdtemp(prefix="dcibench-"))
    ensure_dev_keys(data_dir)
    issuer = (data_dir / PRIVATE_KEY_NAME).read_bytes()
    writer = issue_dev_token(issuer, subject="bench", role=Role.VERIFIKATOR, wilayah="13.71")
    ops = issue_dev_token(issuer, subject="ops", role=Role.SYSTEM, wilayah="13.71")
    partner_token = issue_dev_token(issuer, subject="client:bench-bank", role=Role.SYSTEM, wilayah="13.71", ttl_s=7200)
    key = Ed25519PrivateKey.generate()
    async with scratch_database(infra, "dcibench") as db:
        url = infra.service_url("registry", db)
        runtime = ServiceRuntime(definition(RegistrySettings(database_url=url, data_dir=data_dir)))
        await runtime.migrate()
        await runtime.stop()
        service_port, gateway_port = _free_port(), _free_port()
        service = _serve(
            "services.registry.app:create_app",
            service_port,
            {
                "TEPAT_REGISTRY_DATABASE_URL": url,
                "TEPAT_REGISTRY_BUS": "local",
                "TEPAT_REGISTRY_DATA_DIR": str(data_dir),
                "TEPAT_REGISTRY_LOG_LEVEL": "WARNING",
            },
            data_dir / "registry.log",
            profile / "registry.prof" if profile else None,
            workers,
        )
        gateway = _serve(
            "services.gateway.app:create_app",
            gateway_port,
            {
                "TEPAT_GATEWAY_MODE": "distributed",
                "TEPAT_GATEWAY_DATA_DIR": str(data_dir),
                "TEPAT_GATEWAY_REGISTRY_URL": f"http://127.0.0.1:{service_port}",
                "TEPAT_GATEWAY_VERIFICATION_URL": f"http://127.0.0.1:{_free_port()}",
                "TEPAT_GATEWAY_DISBURSEMENT_URL": f"http://127.0.0.1:{_free_port()}",
                "TEPAT_GATEWAY_LOG_LEVEL": "WARNING",
                # The whole load comes from one address; the per-partner DCI limit (15,000/min) still applies.
                "TEPAT_GATEWAY_ADDRESS_RATE_LIMIT_PER_MINUTE": str(10**9),
                "TEPAT_GATEWAY_ADDRESS_RATE_LIMIT_BURST": str(10**9),
            },
            data_dir / "gateway.log",
            profile / "gateway.prof" if profile else None,
            gateway_workers or workers,
        )
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                await _wait_ready(client, f"http://127.0.0.1:{service_port}/readyz")
                await _wait_ready(client, f"http://127.0.0.1:{gateway_port}/healthz")
                base = f"http://127.0.0.1:{service_port}"
                created_from = cpu_seconds()[service.pid][0]
                for serial in range(1, families + 1):
                    r = await client.post(
                        f"{base}/families", json=_family(serial), headers={"Authorization": f"Bearer {writer}"}
                    )
                    r.raise_for_status()
                create_cpu_ms = 1000 * (cpu_seconds()[service.pid][0] - created_from) / families
                pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
                registration = {
                    "sender_id": SENDER,
                    "name": "Bench bank",
                    "oauth_subject": "client:bench-bank",
                    "public_key_pem": pem,
                    "query_types": ["idtype-value"],
                    "wilayah": ["13.71"],
                    "fields": ["identifier", "household_identifier", "name", "birth_date"],
                }
                r = await client.post(
                    f"{base}/dci/partners", json=registration, headers={"Authorization": f"Bearer {ops}"}
                )
                r.raise_for_status()
            rng = random.Random(15)
            niks = [f"137101150580{rng.randint(1, families):04d}" for _ in range(int(rate * seconds * 1.3) + 10)]
            requests = [_request(key, nik, partner_token) for nik in niks]
            repeated = niks * (1 + 2 * sequential // len(niks)) if sequential else []
            in_turn = [_request(key, nik, partner_token) for nik in repeated][: 2 * sequential]
            quiet_after_s = await wait_quiet(service.pid)
            load = Load(requests, rate, seconds, connections, in_turn)
            result = await measure(load, {"gateway": gateway_port, "registry": service_port}, (gateway, service), db)
            result["create_family_registry_cpu_ms"] = round(create_cpu_ms, 2)
            result["registry_quiet_after_seeding_s"] = quiet_after_s
        finally:
            _stop(gateway, service)
        # The raw baseline right after, on the same database, machine and requests (the machine's speed varies
        # from minute to minute, so only a baseline measured seconds apart makes a ratio).
        raw_url = infra.service_url("registry", db, driver="postgresql")
        raw = await raw_baseline(raw_url, data_dir, load)
    return {
        "machine": machine(),
        "families": families,
        "connections": connections,
        "workers": workers,
        "gateway_workers": gateway_workers or workers,
        "result": result,
        "raw_baseline": raw,
        "vs_raw": _ratios(result, raw),
        "meets_target": "p99_ms" in result
        and result["p99_ms"] < TARGET_P99_MS
        and result["statuses"] == {200: result["requests"]},
    }


@dataclass(frozen=True)
class Load:
    """What is sent: `requests` open-loop at `rate` for `seconds` on `connections` sockets (after a warm-up at the
    same rate), or, when `in_turn` is given, those one at a time."""

    requests: list[bytes]
    rate: int
    seconds: float
    connections: int
    in_turn: list[bytes]


async def measure(
    load: Load, ports: dict[str, int], procs: tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]], db: str = ""
) -> dict[str, Any]:
    """Warm up through the gateway, then the open loop or the sequential CPU per request of (gateway, registry)."""
    warm = int(load.rate * load.seconds * 0.3)
    await open_loop(ports["gateway"], load.requests[:warm], load.rate, warm / load.rate, load.connections)
    servers = {"gateway": procs[0].pid, "registry": procs[1].pid}
    if load.in_turn:
        return await sequential_cpu(ports, servers, load.in_turn)
    rest = load.requests[warm:]
    return await open_loop(ports["gateway"], rest, load.rate, load.seconds, load.connections, servers, db)


def _stop(*procs: subprocess.Popen[bytes]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(30)


async def raw_baseline(database_url: str, data_dir: Path, load: Load) -> dict[str, Any]:
    """The same load through `bench/raw_search.py`'s bare gateway and registry (one SELECT, no Tepat)."""
    service_port, gateway_port = _free_port(), _free_port()
    env = {"RAW_DATABASE_URL": database_url, "RAW_SCHEMA": "registry"}
    service = _serve("bench.raw_search:registry_app", service_port, env, data_dir / "raw-registry.log")
    upstream = {"RAW_UPSTREAM": f"http://127.0.0.1:{service_port}"}
    gateway = _serve("bench.raw_search:gateway_app", gateway_port, upstream, data_dir / "raw-gateway.log")
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            await _wait_ready(client, f"http://127.0.0.1:{service_port}/")
            await _wait_ready(client, f"http://127.0.0.1:{gateway_port}/")
        return await measure(load, {"gateway": gateway_port, "registry": service_port}, (gateway, service))
    finally:
        _stop(gateway, service)


def _ratios(result: dict[str, Any], raw: dict[str, Any]) -> dict[str, float]:
    """Tepat's figure over the raw baseline's, for every latency and CPU figure both have."""
    ratios: dict[str, float] = {}
    for key, value in result.items():
        if key.endswith(("_ms", "_ms_each")) and isinstance(raw.get(key), (int, float)) and raw[key]:
            ratios[key] = round(value / raw[key], 1)
        elif key.startswith("via_") and isinstance(value, dict) and isinstance(raw.get(key), dict):
            ratios |= {f"{key}.{k}": v for k, v in _ratios(value, raw[key]).items()}
    return ratios


async def notify(families: int, batch: int = 500) -> dict[str, Any]:
    """Import `families`, queue their notifications, deliver them to a local subscriber; returns the figures."""
    infra = start_infra()
    data_dir = Path(tempfile.mkdtemp(prefix="dcinotify-"))
    generate_city(data_dir / "city", families_count=families, seed=15)
    receiver = Receiver()
    receiver.start()
    try:
        async with scratch_database(infra, "dcinotify") as db:
            url = await migrate_registry(infra.service_url("registry", db), data_dir)
            settings = RegistrySettings(
                database_url=url, data_dir=data_dir, dci_callback_allowed_addresses=["127.0.0.1"]
            )
            runtime = ServiceRuntime(definition(settings))
            try:
                return await _notify_run(runtime, settings, data_dir, receiver, batch)
            finally:
                await runtime.engine.dispose()
    finally:
        receiver.stop()


async def _notify_run(
    runtime: ServiceRuntime, settings: RegistrySettings, data_dir: Path, receiver: Receiver, batch: int
) -> dict[str, Any]:
    now = utcnow()
    pem = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    partner = {
        "sender_id": SENDER,
        "name": "Bench subscriber",
        "oauth_subject": "client:bench-sub",
        "public_key_pem": pem.decode(),
        "callback_uris": [receiver.uri("/notify")],
        "query_types": ["predicate"],
        "wilayah": ["13.71"],
        "fields": ["household_identifier", "location", "poverty_score", "status", "group_size"],
    }
    criteria = {
        "reg_event_type": "REGISTER",
        "filter_type": "predicate",
        "filter": [
            {"seq_num": 1, "expression1": {"attribute_name": "wilayah", "operator": "eq", "attribute_value": "13.71"}}
        ],
        "notify_record_type": "Group",
    }
    async with runtime.sessions() as session, session.begin():
        await dci_repository.save_partner(session, partner, now)
        await dci_repository.add_subscriptions(
            session,
            [
                {
                    "code": str(uuid.uuid4()),
                    "sender_id": SENDER,
                    "reference_id": "bench",
                    "reg_event_type": "REGISTER",
                    "filter_type": "predicate",
                    "criteria": criteria,
                    "uri": receiver.uri("/notify"),
                    "status": "subscribe",
                    "created_at": now,
                }
            ],
        )
    imported = await asyncio.to_thread(
        child_import, data_dir / "city" / "extract.csv", settings.resolved_database_url, data_dir
    )
    outbox = runtime.definition.messaging.outbox
    async with runtime.sessions() as session:
        rows = (await session.execute(select(outbox).order_by(outbox.c.id))).mappings().all()
    envelopes = [
        EventEnvelope.model_validate({**r, "source": "registry", "data": json.loads(r["data"])})
        for r in rows
        if r["topic"] == REGISTRY_HOUSEHOLD
    ]
    started = time.perf_counter()
    for i in range(0, len(envelopes), batch):
        async with runtime.sessions() as session, session.begin():
            await queue_notifications(session, envelopes[i : i + batch], today=today_wib())
    queue_s = time.perf_counter() - started
    policy = Policy(allowed_addresses=frozenset({"127.0.0.1"}), batch=1000)
    signer = Signer(settings)
    started = time.perf_counter()
    delivered = 0
    while True:
        counts = await deliver_due(runtime.sessions, policy=policy, signer=signer, now=utcnow())
        delivered += counts["delivered"]
        if not any(counts.values()):
            break
    deliver_s = time.perf_counter() - started
    async with runtime.sessions() as session:
        lags = sorted(
            (await session.execute(select(dci_callback.c.delivered_at - dci_callback.c.created_at))).scalars()
        )
        bodies = [b for (b,) in (await session.execute(select(dci_callback.c.body))).all()]
    raw_s = await _raw_posts(receiver.uri("/raw"), bodies, signer)
    seconds = [lag.total_seconds() for lag in lags if lag is not None]
    return {
        "machine": machine(),
        "events": len(envelopes),
        "import_s": round(imported["wall_s"], 2),
        "queue_events_per_s": round(len(envelopes) / queue_s, 1),
        "deliver_events_per_s": round(delivered / deliver_s, 1),
        "raw_posts_per_s": round(len(bodies) / raw_s, 1),
        "deliver_vs_raw": round((delivered / deliver_s) / (len(bodies) / raw_s), 2),
        "lag_p50_s": round(seconds[len(seconds) // 2], 2),
        "lag_p99_s": round(seconds[int(len(seconds) * 0.99)], 2),
        "lag_max_s": round(seconds[-1], 2),
        "delivered": delivered,
        "received": sum(1 for path, _ in receiver.received if path == "/notify"),
        "distinct_message_ids": len({b["header"]["message_id"] for path, b in receiver.received if path == "/notify"}),
    }


async def _raw_posts(uri: str, bodies: list[dict[str, Any]], signer: Signer) -> float:
    """Seconds to sign and POST these bodies one after another (what the delivery does, without Tepat)."""
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=10) as client:
        for body in bodies:
            payload = json.dumps({"signature": signer.signature(body, utcnow()), **body}).encode()
            (await client.post(uri, content=payload, headers={"content-type": "application/json"})).raise_for_status()
    return time.perf_counter() - started


def main() -> None:
    """Run and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notify-families", type=int, help="measure notify throughput instead (e.g. 10000)")
    parser.add_argument("--families", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--profile", type=Path, help="write cProfile stats of registry and gateway to this folder")
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes of registry and gateway (WEB_CONCURRENCY)"
    )
    parser.add_argument("--gateway-workers", type=int, help="the gateway's worker processes (default: --workers)")
    parser.add_argument(
        "--sequential",
        type=int,
        default=0,
        help="instead of the open loop: CPU per search of each process, N sent one at a time to the registry, "
        "then N through the gateway",
    )
    args = parser.parse_args()
    if args.notify_families:
        figures = asyncio.run(notify(args.notify_families))
        print(json.dumps({k: v for k, v in figures.items() if k != "machine"}, indent=2))
        print(write_result("dci_notify", figures))
        return
    out = asyncio.run(
        run(
            args.families,
            args.rate,
            args.seconds,
            args.connections,
            args.profile,
            args.workers,
            args.sequential,
            args.gateway_workers,
        )
    )
    print(json.dumps({k: out[k] for k in ("result", "raw_baseline", "vs_raw")}, indent=2))
    if not args.sequential:
        print(f"meets target (p99 < {TARGET_P99_MS} ms, all 200): {out['meets_target']}")
    print(write_result("dci_search_sequential" if args.sequential else "dci_search", out))


if __name__ == "__main__":
    main()
