"""Registry bulk import at Padang scale, beside a plain COPY of the same rows, plus NIK lookup latency.

    .venv/bin/python -m bench.registry_import [--families 250000] [--seed 7] [--skip-2x] [--rate 200] [--seconds 10]

1. generate the synthetic city (demo.generator) — timed separately, not part of the import;
2. plain COPY: csv module + asyncpg copy_records_to_table into an unindexed table, same rows, same database;
3. the import end to end (`tepat import-extract`, the service function the API job runs) in a child process:
   wall time, rows/s, peak RSS of that process;
4. the same at 2x the file size (fresh database) for the memory check;
5. p50/p99 of POST /lookup/nik over ASGI at a fixed arrival rate against the 1x database.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import OUT, machine, scratch_database, start_infra, write_result
from demo.generator import EXTRACT_COLUMNS, generate_city
from services.registry.app import create_app, definition
from services.registry.settings import RegistrySettings
from shared.auth.principal import Role
from shared.auth.tokens import ensure_dev_keys
from shared.runtime.service import ServiceRuntime
from tests.support.api import auth
from tests.support.infra import Infra

TARGET_SECONDS = 30.0
TARGET_COPY_RATIO = 3.0
TARGET_RSS_MB = 500.0


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
    url = infra.service_url("registry", db)
    runtime = ServiceRuntime(definition(RegistrySettings(database_url=url, data_dir=data_dir)))
    try:
        await runtime.migrate()
    finally:
        await runtime.engine.dispose()
    return url


async def lookup_latency(url: str, data_dir: Path, niks: list[str], rate: int, seconds: float) -> dict[str, Any]:
    """Open-loop POST /lookup/nik at `rate` per second for `seconds`; latency percentiles in ms."""
    ensure_dev_keys(data_dir)
    settings = RegistrySettings(database_url=url, data_dir=data_dir, run_workers=False, auto_migrate=False)
    app = create_app(settings)
    headers = auth(data_dir, Role.VERIFIKATOR, "13.71")
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def one(nik: str) -> None:
                t = time.perf_counter()
                r = await client.post("/lookup/nik", json={"nik": nik}, headers=headers)
                latencies.append((time.perf_counter() - t) * 1000)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

            for nik in niks[:20]:  # warm the pool and caches
                await one(nik)
            latencies.clear()
            statuses.clear()
            total = int(rate * seconds)
            start = time.perf_counter()
            tasks = []
            for i in range(total):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(niks[i % len(niks)])))
            await asyncio.gather(*tasks)
            elapsed = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "achieved_rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(q[49], 1),
        "p99_ms": round(q[98], 1),
        "max_ms": round(max(latencies), 1),
        "statuses": statuses,
    }


def sample_niks(path: Path, count: int, seed: int) -> list[str]:
    """Valid NIKs of the extract (16 digits, month 01-12), reservoir-sampled."""
    rng = random.Random(seed)
    out: list[str] = []
    with path.open(newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            nik = row["nik"]
            if len(nik) != 16 or int(nik[8:10]) > 12:
                continue
            if len(out) < count:
                out.append(nik)
            elif (j := rng.randrange(i + 1)) < count:
                out[j] = nik
    return out


async def run_scale(
    infra: Infra, families: int, seed: int, work: Path, *, lookups: tuple[int, float] | None
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
    async with scratch_database(infra, "bench_import") as db:
        data_dir = work / f"data_{families}"
        data_dir.mkdir(exist_ok=True)
        url = await migrated(infra, db, data_dir)
        out["plain_copy_s"] = round(
            await plain_copy(infra.service_url("registry", db, driver="postgresql"), extract), 2
        )
        result = child_import(extract, url, data_dir)
        job = result["job"]
        out.update(
            import_s=round(result["wall_s"], 2),
            rows_per_s=round(stats.members / result["wall_s"]),
            peak_rss_mb=round(result["peak_rss_mb"], 1),
            status=job["status"],
            counts=job["counts"],
        )
        out["copy_ratio"] = round(out["import_s"] / out["plain_copy_s"], 1)
        if lookups is not None:
            niks = sample_niks(extract, 5000, seed)
            try:
                out["lookup"] = await lookup_latency(url, data_dir, niks, *lookups)
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
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-2x", action="store_true")
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    infra = start_infra()
    info = machine()
    results = []
    with tempfile.TemporaryDirectory(prefix="tepat-bench-") as tmp:
        work = Path(tmp)
        results.append(await run_scale(infra, args.families, args.seed, work, lookups=(args.rate, args.seconds)))
        print(table(results), flush=True)
        print(json.dumps(results[0].get("lookup")), flush=True)
        if not args.skip_2x:
            results.append(await run_scale(infra, args.families * 2, args.seed + 1, work, lookups=None))
    one = results[0]
    print(f"\nmachine: {info}\n")
    print(table(results))
    lk = one["lookup"]
    if "error" in lk:
        print(f"\nPOST /lookup/nik failed: {lk['error']}")
    else:
        print(
            f"\nPOST /lookup/nik over ASGI at {args.rate}/s for {args.seconds:.0f} s on the {one['families']:,}-family "
            f"registry: {lk['requests']} requests, {lk['achieved_rps']}/s achieved, p50 {lk['p50_ms']} ms, "
            f"p99 {lk['p99_ms']} ms, max {lk['max_ms']} ms, statuses {lk['statuses']}"
        )
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
