"""What every benchmark needs: the real servers, a scratch database, a machine description, a results file."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.infra import Infra, create_database, drop_database, start_infra

OUT = Path(__file__).resolve().parent / "out"

__all__ = ["OUT", "Infra", "machine", "peak_rss_mb", "scratch_database", "start_infra", "write_result"]


@asynccontextmanager
async def scratch_database(infra: Infra, prefix: str = "bench", *, keep: bool = False) -> AsyncIterator[str]:
    """A fresh database initialised with deploy/postgres/init.sql, dropped afterwards (`keep`: left in place,
    with how to drop it printed)."""
    name = await create_database(infra, prefix)
    try:
        yield name
    finally:
        if keep:
            print(f"kept database {name}: drop it with psql -c 'DROP DATABASE \"{name}\" WITH (FORCE)'", flush=True)
        else:
            await drop_database(infra, name)


def machine() -> dict[str, Any]:
    """CPU count, memory, CPU model, Python and date: printed beside every result."""
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgres_client": pg,
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_result(name: str, result: dict[str, Any]) -> Path:
    """Store a run's figures as JSON under bench/out/ (git-ignored) and return the path."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}-{int(time.time())}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    return path
