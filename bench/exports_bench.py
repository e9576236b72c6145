"""Peak RSS of the shared exporter (CSV and XLSX) at 25,000 and 250,000 rows: memory must stay flat.

Each format and size runs in its own process (peak RSS is per process):
- `lines`: rows shaped like the payment-line export (LINE_COLUMNS: numbers, codes, dates, timestamps, free
  text), streamed from an async iterator the way the routes stream them from the database;
- `families`: the registry's family export end to end from a SQLite registry of that many families (written by
  a process of its own first): the list's query read with `yield_per`, open flags looked up per batch, each row
  presented (masked) as the JSON list does, then written.

    .venv/bin/python -m bench.exports_bench            # every list, format and size
    .venv/bin/python -m bench.exports_bench families   # one list
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import machine, peak_rss_mb, write_result
from services.disbursement.payments.schemas import LINE_COLUMNS
from services.registry.families.schemas import FAMILY_COLUMNS
from shared.exports.tabular import csv_chunks, xlsx_chunks
from shared.runtime.service import ServiceRuntime

SIZES = (25_000, 250_000)
START = datetime(2026, 3, 1, 8, tzinfo=UTC)


async def _rows(n: int) -> AsyncIterator[Mapping[str, Any]]:
    for i in range(n):
        yield {
            "line_id": i + 1,
            "programme_code": "SEMBAKO",
            "tahap_id": "8b2d48d1-57ce-4040-9ab5-de898f2bf7b4",
            "household_id": f"hh-{i:08d}",
            "kecamatan_code": f"13.71.{i % 11:02d}",
            "kelurahan_code": f"13.71.{i % 11:02d}.{1000 + i % 104}",
            "amount": 600_000,
            "status": "paid" if i % 7 else "on_hold",
            "held_from": None if i % 7 else "planned",
            "hold_reason": None if i % 7 else "data_inactive",
            "failure_reason": None,
            "paid_amount": 600_000 if i % 7 else None,
            "paid_on": date(2026, 3, 5) if i % 7 else None,
            "returned_amount": None,
            "returned_on": None,
            "payer_reference": f"=BRI{i}" if i % 1000 == 0 else f"BRI{i}",
            "decided_by": None,
            "decision_reason": None,
            "version": 2,
            "updated_at": START + timedelta(seconds=i),
        }


def _registry(folder: Path) -> ServiceRuntime:
    from services.registry.app import definition
    from services.registry.settings import RegistrySettings

    return ServiceRuntime(definition(RegistrySettings(data_dir=folder, run_workers=False)))


async def _prepare_families(folder: Path, n: int) -> None:
    """A SQLite registry holding `n` families (batched inserts; no members: the export reads the family rows)."""
    from sqlalchemy import insert, select

    from services.registry.families.models import family
    from services.registry.wilayah.models import wilayah

    runtime = _registry(folder)
    await runtime.migrate()
    async with runtime.sessions() as session, session.begin():
        codes = [c for c in (await session.execute(select(wilayah.c.code))).scalars() if c.count(".") == 3]
        for start in range(0, n, 5000):
            rows = []
            for i in range(start, min(n, start + 5000)):
                kel = codes[i % len(codes)]
                rows.append(
                    {
                        "id": f"fam-{i:08d}",
                        "no_kk": f"1371{i:012d}",
                        "head_nik": f"1371{i:012d}",
                        "address": f"=Jl. Uji {i}" if i % 1000 == 0 else f"Jl. Uji {i}",
                        "rt": "001",
                        "rw": "002",
                        "kelurahan_code": kel,
                        "kecamatan_code": kel.rsplit(".", 1)[0],
                        "latitude": -0.95 + i % 100 / 1000,
                        "longitude": 100.35 + i % 100 / 1000,
                        "source": "dtsen_import",
                        "desil": 1 + i % 10,
                        "desil_period": "2026-Q1",
                        "desil_since": "2026-Q1",
                        "created_at": START,
                        "created_by": "bench",
                        "updated_at": START + timedelta(seconds=i),
                        "updated_by": "bench",
                    }
                )
            await session.execute(insert(family), rows)
    await runtime.engine.dispose()


async def _families(folder: Path) -> AsyncIterator[Mapping[str, Any]]:
    from services.registry.families.export_router import family_rows
    from services.registry.families.repository import FamilyFilter, families_query
    from shared.auth.principal import Principal, Role

    runtime = _registry(folder)
    # The kepala dinas: identifiers masked, addresses withheld, coordinates coarsened (the most masking work).
    principal = Principal("bench", Role.KEPALA_DINAS, "13.71")
    try:
        async for row in family_rows(runtime, principal, families_query(principal, FamilyFilter())):
            yield row
    finally:
        await runtime.engine.dispose()


async def _one(what: str, fmt: str, n: int, folder: Path | None) -> dict[str, Any]:
    columns = FAMILY_COLUMNS if what == "families" else LINE_COLUMNS
    source = _families(folder) if folder is not None else _rows(n)
    counted = 0

    async def rows() -> AsyncIterator[Mapping[str, Any]]:
        nonlocal counted
        async for row in source:
            counted += 1
            yield row

    chunks = csv_chunks(columns, rows()) if fmt == "csv" else xlsx_chunks(columns, rows(), sheet="b")
    started = time.perf_counter()
    size = 0
    async for chunk in chunks:
        size += len(chunk)
    return {
        "list": what,
        "format": fmt,
        "rows": counted,
        "bytes": size,
        "seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def _child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.exports_bench", *args], check=True, capture_output=True, text=True
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main() -> None:
    """Run every list, format and size in a child process; print and store the table."""
    if sys.argv[1:2] == ["prepare"]:
        asyncio.run(_prepare_families(Path(sys.argv[2]), int(sys.argv[3])))
        print("{}")
        return
    if len(sys.argv) >= 4:
        folder = Path(sys.argv[4]) if len(sys.argv) == 5 else None
        print(json.dumps(asyncio.run(_one(sys.argv[1], sys.argv[2], int(sys.argv[3]), folder))))
        return
    lists = sys.argv[1:] or ["lines", "families"]
    results = []
    for what in lists:
        for n in SIZES:
            with tempfile.TemporaryDirectory() as tmp:
                if what == "families":
                    _child("prepare", tmp, str(n))
                for fmt in ("csv", "xlsx"):
                    results.append(_child(what, fmt, str(n), *([tmp] if what == "families" else [])))
                    print(results[-1])
    write_result("exports", {"machine": machine(), "results": results})


if __name__ == "__main__":
    main()
