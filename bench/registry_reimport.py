"""Re-importing an extract costs no more than importing it: embedded (SQLite) and PostgreSQL, same run.

    .venv/bin/python -m bench.registry_reimport [--families 20000] [--seed 7] [--backend sqlite postgres]

Per backend, on a fresh database (SQLite file in a temporary data folder / a scratch PostgreSQL database), each
import through `tepat import-extract` in its own process (`bench.registry_import.child_import`), the schema
migrated beforehand so the first import measures the import only:
1. first import of the previous quarter's extract (an empty registry);
2. the same file again (unchanged: must change nothing, emit nothing): the ratio 2 / 1 is the figure (≤ 1.2);
3. the newest quarter's extract (a changed re-import: moved, added and removed members, new desil period).
The load average is printed before and after each import (the machine may be shared: compare ratios within a
run, not across runs).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import machine, scratch_database, start_infra, write_result
from bench.registry_import import child_import, migrate_registry, migrated
from demo.generator import generate_city, previous_periods

TARGET_RATIO = 1.2
PERIOD = "2026-Q3"


async def migrated_sqlite(data_dir: Path) -> str:
    """A migrated SQLite registry in `data_dir`; its URL."""
    return await migrate_registry(f"sqlite+aiosqlite:///{data_dir / 'registry.db'}", data_dir)


def timed_import(label: str, path: Path, url: str, data_dir: Path) -> dict[str, Any]:
    """One import in a child process, with the load average around it."""
    load_before = os.getloadavg()
    run = child_import(path, url, data_dir)
    job = run["job"]
    if job["status"] != "succeeded":
        raise RuntimeError(f"{label}: {job}")
    counts = job["counts"]
    result = {
        "import": label,
        "wall_s": round(run["wall_s"], 2),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "counts": counts,
    }
    print(
        f"  {label:<10} {run['wall_s']:7.2f} s  families +{counts['families_inserted']:,} "
        f"~{counts['families_updated']:,} ={counts['families_unchanged']:,}  events {counts['events_emitted']:,}  "
        f"load {result['load_before'][0]:.2f} -> {result['load_after'][0]:.2f}",
        flush=True,
    )
    return result


def three_imports(files: tuple[Path, Path], url: str, data_dir: Path) -> dict[str, Any]:
    """First import, unchanged re-import, changed re-import; their figures and the unchanged/first ratio."""
    older, newest = files
    first = timed_import("first", older, url, data_dir)
    unchanged = timed_import("unchanged", older, url, data_dir)
    changed = timed_import("changed", newest, url, data_dir)
    if unchanged["counts"]["events_emitted"] or unchanged["counts"]["families_updated"]:
        raise RuntimeError(f"an unchanged re-import changed something: {unchanged['counts']}")
    ratio = unchanged["wall_s"] / first["wall_s"]
    print(f"  unchanged / first = {ratio:.2f} (target ≤ {TARGET_RATIO})", flush=True)
    return {"first": first, "unchanged": unchanged, "changed": changed, "ratio": round(ratio, 2)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backend", nargs="+", choices=("sqlite", "postgres"), default=["sqlite", "postgres"])
    args = parser.parse_args()
    info = machine()
    print(info, flush=True)
    results: dict[str, Any] = {"machine": info, "families": args.families}
    with tempfile.TemporaryDirectory(prefix="bench-reimport-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        generate_city(root / "city", families_count=args.families, seed=args.seed, period=PERIOD, quarters=2)
        older_period = previous_periods(PERIOD, 2)[0]
        files = (root / "city" / f"extract_{older_period}.csv", root / "city" / "extract.csv")
        print(f"city of {args.families:,} families generated in {time.perf_counter() - start:.1f} s", flush=True)
        if "sqlite" in args.backend:
            print("embedded (SQLite):", flush=True)
            data_dir = root / "sqlite"
            data_dir.mkdir()
            results["sqlite"] = three_imports(files, await migrated_sqlite(data_dir), data_dir)
        if "postgres" in args.backend:
            print("PostgreSQL:", flush=True)
            infra = start_infra()
            async with scratch_database(infra, "bench_reimport") as db:
                data_dir = root / "pg"
                data_dir.mkdir()
                results["postgres"] = three_imports(files, await migrated(infra, db, data_dir), data_dir)
    print(f"results: {write_result('registry_reimport', results)}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
