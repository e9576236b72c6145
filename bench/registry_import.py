"""Registry bulk import at Padang scale, beside a plain COPY of the same rows, plus NIK lookup latency.

    .venv/bin/python -m bench.registry_import [--families 250000] [--seed 7] [--skip-2x] [--keep-database]
        [--rate 200 [400 ...]] [--seconds 30] [--warmup 10] [--reveal]
    .venv/bin/python -m bench.registry_import --lookup-only --database NAME [--rate ...] [--reveal]

1. generate the synthetic city (demo.generator) — timed separately, not part of the import;
2. plain COPY: csv module + asyncpg copy_records_to_table into an unindexed table, same rows, same database;
3. the import end to end (`tepat import-extract`, the service function the API job runs) in a child process:
   wall time, rows/s, peak RSS of that process;
4. the same at 2x the file size (fresh database) for the memory check;
5. POST /lookup/nik against the 1x database: VACUUM (ANALYZE) first, the registry in its own uvicorn process,
   an open-loop load at each fixed arrival rate (latency counted from the scheduled send time, so a stalled
   server cannot hide its queue), a warm-up per rate; p50/p95/p99/p99.9. `--reveal` also measures lookups
   that reveal identifiers (each writes personal_data_access and audit rows). `--keep-database` leaves the
   1x database in place so `--lookup-only --database NAME` can measure again without re-importing.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import OUT, machine, scratch_database, start_infra, write_result
from demo.generator import EXTRACT_COLUMNS, generate_city
from services.registry.app import definition
from services.registry.settings import RegistrySettings
from shared.auth.principal import Role
from shared.auth.tokens import ensure_dev_keys
from shared.runtime.service import ServiceRuntime
from tests.support.api import auth
from tests.support.infra import Infra

REPO = Path(__file__).resolve().parent.parent

TARGET_SECONDS = 30.0
TARGET_COPY_RATIO = 3.0
TARGET_RSS_MB = 500.0
TARGET_LOOKUP_P99_MS = 20.0


async def plain_copy(dsn: str, path: Path) -> float:
    """Seconds to read the CSV with the csv module and COPY every row into an unindexed text table."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "CREATE UNLOGGED TABLE bench_plain (" + ", ".join(f"{c} text" for c in EXTRACT_COLUMNS) + ")"
        )
        start = time.perf_counter()
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            next(reader)
            batch: list[list[str]] = []
            for row in reader:
                batch.append(row)
                if len(batch) >= 10_000:
                    await conn.copy_records_to_table("bench_plain", records=batch)
                    batch = []
            if batch:
                await conn.copy_records_to_table("bench_plain", records=batch)
        return time.perf_counter() - start
    finally:
        await conn.close()


def child_import(path: Path, database_url: str, data_dir: Path) -> dict[str, Any]:
    """Run `tepat import-extract` in a child process; its wall time, peak RSS and job counts."""
    env = {**os.environ, "TEPAT_REGISTRY_DATABASE_URL": database_url, "TEPAT_REGISTRY_DATA_DIR": str(data_dir)}
    code = (
        "import resource, sys, time, json\n"
        "from services.cli import main\n"
        "t = time.perf_counter()\n"
        "rc = main(['import-extract', sys.argv[1]])\n"
        "print(json.dumps({'rc': rc, 'wall_s': time.perf_counter() - t,"
        " 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    lines = proc.stdout.strip().splitlines()
    measured = json.loads(lines[-1])
    job = json.loads("\n".join(lines[:-1]))
    return {**measured, "job": job}


async def migrated(infra: Infra, db: str, data_dir: Path) -> str:
    """Bring the registry schema of `db` to head; returns the service URL."""
    return await migrate_registry(infra.service_url("registry", db), data_dir)


async def migrate_registry(url: str, data_dir: Path) -> str:
    """Bring the registry schema at `url` (PostgreSQL or SQLite) to head; returns the URL."""
    runtime = ServiceRuntime(definition(RegistrySettings(database_url=url, data_dir=data_dir)))
    try:
        await runtime.migrate()
    finally:
        await runtime.engine.dispose()
    return url


@dataclass(frozen=True)
class LookupPlan:
    """How to measure POST /lookup/nik: arrival rates, seconds per rate, warm-up seconds, also with reveal,
    client connections."""

    rates: tuple[int, ...] = (200,)
    seconds: float = 30.0
    warmup: float = 10.0
    reveal: bool = False
    connections: int = 32


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_registry(url: str, data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """The registry as production runs it: its own uvicorn process (uvloop, httptools) on the database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEPAT_")} | {
        "TEPAT_REGISTRY_DATABASE_URL": url,
        "TEPAT_REGISTRY_DATA_DIR": str(data_dir),
        "TEPAT_REGISTRY_AUTO_MIGRATE": "false",
        # The relay would spend the run publishing the import's events: a one-off that is not the lookup path.
        "TEPAT_REGISTRY_BUS": "local",
        "TEPAT_REGISTRY_RUN_WORKERS": "false",
        "TEPAT_REGISTRY_LOG_LEVEL": "WARNING",
    }
    args = ["--factory", "services.registry.app:create_app", "--host", "127.0.0.1", "--port", str(port)]
    command = [sys.executable, "-m", "uvicorn", *args, "--log-level", "warning", "--no-access-log"]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)


async def settle(infra: Infra, db: str) -> None:
    """VACUUM (ANALYZE) the freshly imported database, as autovacuum would shortly after an import."""
    conn = await asyncpg.connect(infra.admin_url(db))
    try:
        await conn.execute("VACUUM (ANALYZE)")
    finally:
        await conn.close()


async def active_niks(infra: Infra, db: str, count: int, seed: int) -> list[str]:
    """A reproducible random sample of the NIKs of active members."""
    conn = await asyncpg.connect(infra.admin_url(db))
    try:
        rows = await conn.fetch(
            "SELECT nik FROM registry.member WHERE active ORDER BY md5(nik || $1::text) LIMIT $2", str(seed), count
        )
    finally:
        await conn.close()
    return [r["nik"] for r in rows]


def _request_bytes(body: dict[str, Any], headers: dict[str, str]) -> bytes:
    payload = json.dumps(body).encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (
        f"POST /lookup/nik HTTP/1.1\r\nHost: bench\r\n{head}Content-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """One HTTP/1.1 request on a kept-alive connection; the status (uvicorn always sends Content-Length)."""
    writer.write(request)
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


def cpu_seconds() -> dict[int, tuple[float, str, int]]:
    """CPU seconds (user + system), command line and parent of every process, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, tuple[float, str, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        out[int(entry.name)] = ((int(fields[11]) + int(fields[12])) / tick, command, int(fields[1]))
    return out


def _cpu_shares(
    before: dict[int, tuple[float, str, int]],
    after: dict[int, tuple[float, str, int]],
    servers: Mapping[str, int],
    db: str,
    seconds: float,
) -> dict[str, float]:
    """Cores used during the run by each server under test, the registry's database sessions, this load generator
    and everything else: the `other` figure says how noisy the machine was. A server's worker processes (uvicorn
    --workers) count as the server."""
    names = {pid: name for name, pid in servers.items()}
    shares = dict.fromkeys(servers, 0.0) | {"postgres_for_registry": 0.0, "load_generator": 0.0, "other": 0.0}
    for pid, (cpu, command, parent) in after.items():
        used = cpu - before.get(pid, (0.0, "", 0))[0]
        if pid in names or parent in names:
            shares[names.get(pid) or names[parent]] += used
        elif pid == os.getpid():
            shares["load_generator"] += used
        elif command.startswith("postgres:") and f" {db} " in command:
            shares["postgres_for_registry"] += used
        else:
            shares["other"] += used
    return {k: round(v / seconds, 2) for k, v in shares.items()}


async def open_loop(
    port: int,
    requests: list[bytes],
    rate: int,
    seconds: float,
    connections: int,
    server: int | Mapping[str, int] = 0,
    db: str = "",
) -> dict[str, Any]:
    """Send at a fixed arrival rate whatever the answers do; latency runs from each request's scheduled time.

    A minimal HTTP/1.1 client on `connections` kept-alive sockets: a general client (httpx) spends more CPU per
    request than the server under test and, once requests queue, slows down further, which it then measures."""
    latencies: list[float] = []
    statuses: dict[int | str, int] = {}
    queue: asyncio.Queue[tuple[bytes, float] | None] = asyncio.Queue()

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while (item := await queue.get()) is not None:
                request, scheduled = item
                try:
                    status: int | str = await exchange(reader, writer, request)
                except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                    status = type(exc).__name__  # counted, not fatal; the next request gets a new connection
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                latencies.append((time.perf_counter() - scheduled) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    await asyncio.sleep(0.2)  # connections open before the clock starts
    total = int(rate * seconds)
    load_before = os.getloadavg()
    cpu_before = cpu_seconds()
    start = time.perf_counter()
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((requests[i % len(requests)], scheduled))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - start
    servers = {"registry": server} if isinstance(server, int) else server
    cores = _cpu_shares(cpu_before, cpu_seconds(), servers, db, elapsed)
    q = statistics.quantiles(latencies, n=1000, method="inclusive")
    return {
        "rate": rate,
        "requests": len(latencies),
        "achieved_rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(q[499], 1),
        "p95_ms": round(q[949], 1),
        "p99_ms": round(q[989], 1),
        "p999_ms": round(q[998], 1),
        "max_ms": round(max(latencies), 1),
        "statuses": statuses,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "cores_used": cores,
    }


async def lookup_latency(infra: Infra, db: str, plan: LookupPlan, seed: int) -> list[dict[str, Any]]:
    """Open-loop POST /lookup/nik against the registry in its own process, after VACUUM ANALYZE and a warm-up."""
    await settle(infra, db)
    niks = await active_niks(infra, db, 20_000, seed)
    results = []
    with tempfile.TemporaryDirectory(prefix="tepat-lookup-") as tmp:
        data_dir = Path(tmp)
        ensure_dev_keys(data_dir)
        headers = auth(data_dir, Role.VERIFIKATOR, "13.71")
        port = _free_port()
        server = serve_registry(infra.service_url("registry", db), data_dir, port, data_dir / "registry.log")
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                await _wait_healthy(client, server, data_dir / "registry.log")
            kinds: list[tuple[str, list[bytes]]] = [("masked", [_request_bytes({"nik": n}, headers) for n in niks])]
            if plan.reveal:
                body = {"reveal": True, "purpose": "bench: cek data penerima"}
                kinds.append(("reveal", [_request_bytes({"nik": n, **body}, headers) for n in niks]))
            for kind, requests in kinds:
                for rate in plan.rates:
                    # Warm-up on other NIKs than the measured ones: connections, pool, plan caches, not rows.
                    half = len(requests) // 2
                    await open_loop(port, requests[half:], rate, plan.warmup, plan.connections)
                    result = await open_loop(
                        port, requests[:half], rate, plan.seconds, plan.connections, server.pid, db
                    )
                    results.append({"kind": kind, **result})
                    print(json.dumps(results[-1]), flush=True)
        finally:
            server.terminate()
            server.wait(30)
    return results


async def _wait_healthy(client: httpx.AsyncClient, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = await asyncio.to_thread(log.read_text)
            raise RuntimeError(f"registry exited: {output[-2000:]}")
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("registry did not answer /healthz within 60 s")


async def run_scale(
    infra: Infra, families: int, seed: int, work: Path, *, lookups: LookupPlan | None, keep: bool = False
) -> dict[str, Any]:
    """Generate, plain COPY and import one size; optionally measure lookups on the result."""
    city = work / f"city_{families}"
    t = time.perf_counter()
    stats = generate_city(city, families_count=families, seed=seed)
    gen_s = time.perf_counter() - t
    extract = city / "extract.csv"
    out: dict[str, Any] = {
        "families": families,
        "rows": stats.members,
        "file_mb": round(extract.stat().st_size / 1e6, 1),
        "generate_s": round(gen_s, 1),
    }
    async with scratch_database(infra, "bench_import", keep=keep) as db:
        data_dir = work / f"data_{families}"
        data_dir.mkdir(exist_ok=True)
        url = await migrated(infra, db, data_dir)
        out["plain_copy_s"] = round(
            await plain_copy(infra.service_url("registry", db, driver="postgresql"), extract), 2
        )
        load_before = os.getloadavg()
        result = child_import(extract, url, data_dir)
        job = result["job"]
        out.update(
            import_s=round(result["wall_s"], 2),
            rows_per_s=round(stats.members / result["wall_s"]),
            peak_rss_mb=round(result["peak_rss_mb"], 1),
            status=job["status"],
            counts=job["counts"],
            # Where the time went (`import_job.progress`) and how busy the machine was around the import.
            phases={p["phase"]: p["seconds"] for p in (job.get("progress") or {}).get("phases", [])},
            import_loadavg=[round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        )
        out["copy_ratio"] = round(out["import_s"] / out["plain_copy_s"], 1)
        if lookups is not None:
            try:
                out["lookup"] = await lookup_latency(infra, db, lookups, seed)
            except Exception as exc:  # reported, so the import figures survive a broken lookup path
                out["lookup"] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    return out


def table(results: list[dict[str, Any]]) -> str:
    """The figures as a Markdown table."""
    lines = [
        "| size | rows | file | plain COPY | import (end to end) | rows/s | x COPY | peak RSS | rejected | events |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        c = r["counts"] or {}
        lines.append(
            f"| {r['families']:,} families | {r['rows']:,} | {r['file_mb']} MB | {r['plain_copy_s']} s | "
            f"{r['import_s']} s | {r['rows_per_s']:,} | {r['copy_ratio']}x | {r['peak_rss_mb']} MB | "
            f"{c.get('rows_rejected', '?'):,} | {c.get('events_emitted', '?'):,} |"
        )
    for r in results:
        phases = ", ".join(f"{name} {seconds:.2f}" for name, seconds in r.get("phases", {}).items())
        lines.append(f"\n{r['families']:,} families, phases (s): {phases}; load {r.get('import_loadavg')}")
    return "\n".join(lines)


def lookup_lines(lookup: list[dict[str, Any]] | dict[str, Any], where: str) -> list[str]:
    """The lookup figures, one line per (kind, rate), with the verdict against the p99 target."""
    if isinstance(lookup, dict):
        return [f"POST /lookup/nik failed: {lookup['error']}"]
    lines = []
    for r in lookup:
        verdict = "met" if r["p99_ms"] < TARGET_LOOKUP_P99_MS else "MISSED"
        lines.append(
            f"POST /lookup/nik ({r['kind']}) to the registry process at {r['rate']}/s, {where}: "
            f"{r['requests']} requests, {r['achieved_rps']}/s achieved, p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, "
            f"p99 {r['p99_ms']} ms, p99.9 {r['p999_ms']} ms, max {r['max_ms']} ms, statuses {r['statuses']}, "
            f"load {r['loadavg_before'][0]} -> {r['loadavg_after'][0]}, cores used {r['cores_used']} "
            f"(p99 < {TARGET_LOOKUP_P99_MS:.0f} ms: {verdict})"
        )
    return lines


async def lookup_only(infra: Infra, db: str, plan: LookupPlan, seed: int) -> None:
    """Measure the lookups alone against an already imported database."""
    info = machine()
    lookup = await lookup_latency(infra, db, plan, seed)
    print(f"\nmachine: {info}\n")
    print("\n".join(lookup_lines(lookup, f"database {db}")))
    path = write_result("registry_lookup", {"machine": info, "database": db, "lookup": lookup})
    print(f"\nresults: {path.relative_to(OUT.parent.parent)}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-2x", action="store_true")
    parser.add_argument("--rate", type=int, nargs="+", default=[200], help="lookup arrival rates per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per lookup rate")
    parser.add_argument("--warmup", type=float, default=10.0, help="warm-up seconds before each lookup rate")
    parser.add_argument("--reveal", action="store_true", help="also measure lookups that reveal (audited)")
    parser.add_argument("--connections", type=int, default=32, help="kept-alive client connections for lookups")
    parser.add_argument("--keep-database", action="store_true", help="keep the 1x database for --lookup-only")
    parser.add_argument("--lookup-only", action="store_true", help="only the lookups, on --database")
    parser.add_argument("--database", help="an imported database (from --keep-database) for --lookup-only")
    args = parser.parse_args()
    infra = start_infra()
    plan = LookupPlan(
        rates=tuple(args.rate),
        seconds=args.seconds,
        warmup=args.warmup,
        reveal=args.reveal,
        connections=args.connections,
    )
    if args.lookup_only:
        if not args.database:
            parser.error("--lookup-only needs --database")
        await lookup_only(infra, args.database, plan, args.seed)
        return
    info = machine()
    results = []
    with tempfile.TemporaryDirectory(prefix="tepat-bench-") as tmp:
        work = Path(tmp)
        results.append(await run_scale(infra, args.families, args.seed, work, lookups=plan, keep=args.keep_database))
        print(table(results), flush=True)
        print(json.dumps(results[0].get("lookup")), flush=True)
        if not args.skip_2x:
            results.append(await run_scale(infra, args.families * 2, args.seed + 1, work, lookups=None))
    one = results[0]
    print(f"\nmachine: {info}\n")
    print(table(results))
    print("\n" + "\n".join(lookup_lines(one["lookup"], f"{one['families']:,} families")))
    print("\ntargets:")
    verdict = {True: "met", False: "MISSED"}
    print(f"- end to end < {TARGET_SECONDS:.0f} s: {one['import_s']} s ({verdict[one['import_s'] < TARGET_SECONDS]})")
    ratio_ok = one["copy_ratio"] <= TARGET_COPY_RATIO
    print(f"- <= {TARGET_COPY_RATIO:.0f}x plain COPY: {one['copy_ratio']}x ({verdict[ratio_ok]})")
    for r in results:
        ok = r["peak_rss_mb"] < TARGET_RSS_MB
        print(
            f"- peak RSS < {TARGET_RSS_MB:.0f} MB at {r['families']:,} families: {r['peak_rss_mb']} MB ({verdict[ok]})"
        )
    path = write_result(
        "registry_import",
        {
            "machine": info,
            "results": results,
            "bench_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        },
    )
    print(f"\nresults: {path.relative_to(OUT.parent.parent)}")


if __name__ == "__main__":
    asyncio.run(main())
