"""What the gateway costs: the same authenticated GET straight to the registry and through the gateway.

The registry runs as a real uvicorn process on a scratch PostgreSQL database; the gateway runs as a second uvicorn
process in distributed mode in front of it. One client (httpx, pooled connections, loopback only) measures both in
the same run: latency of sequential requests (p50/p99) and throughput with a fixed number of concurrent workers.
Targets: p50 added < 2 ms, throughput through the gateway >= 60 % of direct.

    .venv/bin/python -m bench.gateway_overhead [--requests 3000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pstats
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import machine, scratch_database, start_infra, write_result
from services.registry.app import definition
from services.registry.settings import RegistrySettings
from shared.auth.principal import Role
from shared.auth.tokens import PRIVATE_KEY_NAME, ensure_dev_keys, issue_dev_token
from shared.runtime.service import ServiceRuntime

REPO = Path(__file__).resolve().parent.parent
PATH = "/families/count"
TARGET_ADDED_P50_MS = 2.0
TARGET_THROUGHPUT_RATIO = 0.60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(
    factory: str, port: int, env: dict[str, str], log: Path, profile: Path | None = None, workers: int = 1
) -> subprocess.Popen[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TEPAT_")}
    args = ["--factory", factory, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    if workers > 1:
        args += ["--workers", str(workers)]
    command = [sys.executable, "-m", "uvicorn", *args, "--no-access-log"]
    if profile:
        # uvicorn re-raises SIGTERM after its shutdown: turn it into an exception so the profile is written.
        code = (
            "import cProfile, signal, sys, uvicorn\n"
            "def stop(*_): raise SystemExit(0)\n"
            "signal.signal(signal.SIGTERM, stop)\n"
            "p = cProfile.Profile(); p.enable()\n"
            f"try: uvicorn.main({[*args, '--no-access-log']!r})\n"
            f"finally: p.disable(); p.dump_stats({str(profile)!r})\n"
        )
        command = [sys.executable, "-c", code]
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=REPO,
            env=clean | env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def _wait_ready(client: httpx.AsyncClient, url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (await client.get(url)).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready within {timeout}s")


async def _latency(client: httpx.AsyncClient, url: str, headers: dict[str, str], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        r = await client.get(url, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"{url}: {r.status_code} {r.text[:200]}")
    return samples


async def _throughput(client: httpx.AsyncClient, url: str, headers: dict[str, str], n: int, workers: int) -> float:
    remaining = n

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            r = await client.get(url, headers=headers)
            if r.status_code != 200:
                raise RuntimeError(f"{url}: {r.status_code} {r.text[:300]}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return n / (time.perf_counter() - started)


def _pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


async def run(requests: int, concurrency: int, profile: Path | None = None) -> dict[str, Any]:
    """Start both processes, measure, stop them; returns the figures."""
    infra = start_infra()
    data_dir = Path(tempfile.mkdtemp(prefix="gwbench-"))
    ensure_dev_keys(data_dir)
    token = issue_dev_token(
        (data_dir / PRIVATE_KEY_NAME).read_bytes(), subject="bench", role=Role.VERIFIKATOR, wilayah="13.71"
    )
    headers = {"Authorization": f"Bearer {token}"}
    async with scratch_database(infra, "gwbench") as db:
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
        )
        gateway = _serve(
            "services.gateway.app:create_app",
            gateway_port,
            {
                "TEPAT_GATEWAY_MODE": "distributed",
                "TEPAT_GATEWAY_DATA_DIR": str(data_dir),
                "TEPAT_GATEWAY_REGISTRY_URL": f"http://127.0.0.1:{service_port}",
                # Not started: the benchmark only reaches the registry.
                "TEPAT_GATEWAY_VERIFICATION_URL": f"http://127.0.0.1:{_free_port()}",
                "TEPAT_GATEWAY_DISBURSEMENT_URL": f"http://127.0.0.1:{_free_port()}",
                "TEPAT_GATEWAY_RATE_LIMIT_PER_MINUTE": str(10**9),
                "TEPAT_GATEWAY_RATE_LIMIT_BURST": str(10**9),
                # The per-address limit in front of authentication too: the bench measures overhead, not limits.
                "TEPAT_GATEWAY_ADDRESS_RATE_LIMIT_PER_MINUTE": str(10**9),
                "TEPAT_GATEWAY_ADDRESS_RATE_LIMIT_BURST": str(10**9),
                "TEPAT_GATEWAY_LOG_LEVEL": "WARNING",
            },
            data_dir / "gateway.log",
            profile,
        )
        try:
            limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
            async with httpx.AsyncClient(limits=limits, timeout=30) as client:
                await _wait_ready(client, f"http://127.0.0.1:{service_port}/readyz")
                await _wait_ready(client, f"http://127.0.0.1:{gateway_port}/healthz")
                targets = {
                    "direct": f"http://127.0.0.1:{service_port}{PATH}",
                    "gateway": f"http://127.0.0.1:{gateway_port}/api/registry{PATH}",
                }
                for target in targets.values():  # warm up connections, caches and the JIT-free hot paths
                    await _latency(client, target, headers, 200)
                figures: dict[str, dict[str, float]] = {}
                # Interleaved halves, so a drift of the machine during the run hits both sides alike.
                samples: dict[str, list[float]] = {name: [] for name in targets}
                for _ in range(2):
                    for name, target in targets.items():
                        samples[name] += await _latency(client, target, headers, requests // 2)
                rates: dict[str, list[float]] = {name: [] for name in targets}
                for _ in range(2):
                    for name, target in targets.items():
                        rates[name].append(await _throughput(client, target, headers, requests, concurrency))
                for name in targets:
                    figures[name] = {
                        "p50_ms": round(_pct(samples[name], 50), 3),
                        "p99_ms": round(_pct(samples[name], 99), 3),
                        "rps": round(statistics.mean(rates[name]), 1),
                    }
        finally:
            for proc in (gateway, service):
                proc.terminate()
            for proc in (gateway, service):
                proc.wait(30)
    added = figures["gateway"]["p50_ms"] - figures["direct"]["p50_ms"]
    ratio = figures["gateway"]["rps"] / figures["direct"]["rps"]
    return {
        "machine": machine(),
        "path": PATH,
        "requests": requests,
        "concurrency": concurrency,
        "figures": figures,
        "added_p50_ms": round(added, 3),
        "throughput_ratio": round(ratio, 3),
        "meets_targets": added < TARGET_ADDED_P50_MS and ratio >= TARGET_THROUGHPUT_RATIO,
    }


def _markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    f = result["figures"]
    lines = [
        f"Gateway overhead: GET {result['path']} (authenticated), {result['requests']} requests per measurement, "
        f"{result['concurrency']} concurrent for throughput",
        f"Machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, Python {m['python']}, {m['date']}",
        "",
        "| path | p50 ms | p99 ms | req/s |",
        "|---|---:|---:|---:|",
        f"| direct to registry | {f['direct']['p50_ms']} | {f['direct']['p99_ms']} | {f['direct']['rps']} |",
        f"| through gateway | {f['gateway']['p50_ms']} | {f['gateway']['p99_ms']} | {f['gateway']['rps']} |",
        "",
        f"Added p50: {result['added_p50_ms']} ms (target < {TARGET_ADDED_P50_MS}); "
        f"throughput ratio: {result['throughput_ratio']:.0%} (target >= {TARGET_THROUGHPUT_RATIO:.0%}); "
        f"targets {'met' if result['meets_targets'] else 'MISSED'}.",
    ]
    return "\n".join(lines)


def main() -> None:
    """Run and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the gateway process to this file")
    args = parser.parse_args()
    result = asyncio.run(run(args.requests, args.concurrency, args.profile))
    path = write_result("gateway_overhead", result)
    print(_markdown(result))
    if args.profile:
        pstats.Stats(str(args.profile)).sort_stats("tottime").print_stats(25)
    print(f"\n(figures stored in {path.relative_to(REPO)})")


if __name__ == "__main__":
    main()
