"""Peak RSS of the shared exporter (CSV and XLSX) at 25,000 and 250,000 payment-line rows: memory must stay flat.

Each format and size runs in its own process (peak RSS is per process), over rows shaped like the payment-line
export (LINE_COLUMNS: numbers, codes, dates, timestamps, free text), streamed from an async iterator the way the
routes stream them from the database.

    .venv/bin/python -m bench.exports_bench
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.common import machine, peak_rss_mb, write_result
from services.disbursement.payments.schemas import LINE_COLUMNS
from shared.exports.tabular import csv_chunks, xlsx_chunks

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


async def _one(fmt: str, n: int) -> dict[str, Any]:
    chunks = csv_chunks(LINE_COLUMNS, _rows(n)) if fmt == "csv" else xlsx_chunks(LINE_COLUMNS, _rows(n), sheet="b")
    started = time.perf_counter()
    size = 0
    async for chunk in chunks:
        size += len(chunk)
    return {
        "format": fmt,
        "rows": n,
        "bytes": size,
        "seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main() -> None:
    """Run every format and size in a child process; print and store the table."""
    if len(sys.argv) == 3:
        print(json.dumps(asyncio.run(_one(sys.argv[1], int(sys.argv[2])))))
        return
    results = []
    for fmt in ("csv", "xlsx"):
        for n in SIZES:
            out = subprocess.run(
                [sys.executable, "-m", "bench.exports_bench", fmt, str(n)], check=True, capture_output=True, text=True
            )
            results.append(json.loads(out.stdout))
            print(results[-1])
    write_result("exports", {"machine": machine(), "results": results})


if __name__ == "__main__":
    main()
