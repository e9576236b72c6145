"""Benchmark of the disbursement service's bulk paths against the local PostgreSQL.

    .venv/bin/python bench/disbursement_bench.py [--small 250000] [--large 2500000] [--report 250000]

Creates its own database (like tests/conftest.py), loads the household_status read model with COPY, then measures
through the service functions, each beside a raw SQL baseline run in the same database:
1. tahap list generation (PKH rule: desil 1-4, components with caps, tie-breakers) for --small and --large families:
   freeze INSERT … SELECT with ranking, sha256 of the list, diff, planned payment lines; baseline: the bare
   INSERT … SELECT of the same rows without rule, ranking or lines. Reports the large/small cost ratio.
2. payer-report import of --report lines (streamed CSV, COPY into the UNLOGGED staging table, set-based UPDATE … FROM,
   outbox events); baseline: COPY of the same file into a bare table.
3. reconciliation of that tahap (all six break detections); baseline: one GROUP BY over its lines.
Prints a Markdown table. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine, peak_rss_mb, scratch_database, write_result
from services.disbursement.app import definition as disbursement_definition
from services.disbursement.payer_reports.service import import_report
from services.disbursement.programmes.schemas import RuleIn
from services.disbursement.programmes.service import add_rule
from services.disbursement.reconciliation.service import reconcile
from services.disbursement.settings import DisbursementSettings
from services.disbursement.tahap.schemas import TahapIn
from services.disbursement.tahap.service import approve, create_tahap, generate
from shared.auth.principal import Principal, Role
from shared.runtime.service import ServiceRuntime
from tests.support.infra import start_infra

PREP = Principal(subject="bench-prep", role=Role.VERIFIKATOR, wilayah="13.71")
KADIS = Principal(subject="bench-kadis", role=Role.KEPALA_DINAS, wilayah="13.71")
COLUMNS = [
    "household_id",
    "kecamatan_code",
    "kelurahan_code",
    "data_status",
    "status_reason",
    "desil",
    "desil_period",
    "open_flags",
    "confirmed_flags",
    "members",
    "children_0_6",
    "school_sd",
    "school_smp",
    "school_sma",
    "elderly_70",
    "disabled_severe",
    "pregnant",
    "last_outcome",
    "last_verified_at",
    "version",
    "updated_at",
]
BASELINE_LIST = """
CREATE TABLE IF NOT EXISTS baseline_list AS SELECT * FROM tahap_list WITH NO DATA;
INSERT INTO baseline_list (tahap_key, generation, household_id, kecamatan_code, kelurahan_code, desil, amount,
                           list_rank, listed, reason)
SELECT 0, 1, household_id, kecamatan_code, kelurahan_code, desil, 0, NULL, desil <= 4, 'eligible'
FROM household_status;
"""


def families(n: int, seed: int, *, offset: int = 0) -> list[tuple[Any, ...]]:
    """A synthetic city: 11 kecamatan, desil 1-10, some inactive or flagged, PKH-relevant composition."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    rows = []
    for i in range(offset, offset + n):
        kec = 1 + i % 11
        status = "inactive" if rng.random() < 0.02 else "active"
        rows.append(
            (
                f"hh-{i:09d}",
                f"13.71.{kec:02d}",
                f"13.71.{kec:02d}.{1001 + i % 9}",
                status,
                "deceased" if status == "inactive" else None,
                1 + i % 10,
                "2026-Q1",
                "",
                ",car_owner," if rng.random() < 0.01 else "",
                rng.randint(1, 8),
                rng.randint(0, 2),
                rng.randint(0, 2),
                rng.randint(0, 1),
                rng.randint(0, 1),
                rng.randint(0, 1),
                int(rng.random() < 0.03),
                int(rng.random() < 0.05),
                "layak",
                now,
                1,
                now,
            )
        )
    return rows


async def load_households(dsn: str, n: int) -> None:
    """COPY n families into the read model (setup, not measured)."""
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "disbursement"})
    try:
        await conn.execute("TRUNCATE household_status")
        step = 250_000
        for start in range(0, n, step):
            rows = families(min(step, n - start), seed=start, offset=start)
            await conn.copy_records_to_table("household_status", records=rows, columns=COLUMNS)
        await conn.execute("ANALYZE household_status")
    finally:
        await conn.close()


def write_payer_file(line_ids: list[int]) -> Path:
    """A bank report with one row per line: 3 % failed, 0.1 % with a wrong amount."""
    rng = random.Random(7)
    path = Path(tempfile.mkstemp(suffix=".csv")[1])
    with path.open("w") as f:
        f.write("line_id,status,amount,date,reference,failure_reason\n")
        for i, line_id in enumerate(line_ids):
            if rng.random() < 0.03:
                f.write(f"{line_id},failed,600000,2026-03-10,F{i},not_collected\n")
            else:
                amount = 650000 if rng.random() < 0.001 else 600000
                f.write(f"{line_id},paid,{amount},2026-03-10,P{i},\n")
    return path


def open_binary(path: Path) -> BinaryIO:
    """The file opened for streaming reads."""
    return path.open("rb")


def remove(path: Path) -> None:
    """Delete a scratch file."""
    path.unlink()


async def timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    """Wall time of one awaited call."""
    t0 = time.perf_counter()
    result = await fn()
    return time.perf_counter() - t0, result


async def in_tx(runtime: ServiceRuntime, fn: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run a service function in one transaction, as a request would."""
    async with runtime.sessions() as session, session.begin():
        return await fn(session)


async def new_tahap(runtime: ServiceRuntime, programme: str, label: str, version: int) -> str:
    """A draft tahap."""
    body = TahapIn(programme_code=programme, label=label, as_of=date(2026, 3, 1), rule_version=version)
    out = await in_tx(runtime, lambda s: create_tahap(s, body=body, principal=PREP))
    return str(out.id)


async def raw_sql(dsn: str, sql: str) -> float:
    """Wall time of raw SQL on a plain connection."""
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "disbursement"})
    try:
        t0 = time.perf_counter()
        await conn.execute(sql)
        return time.perf_counter() - t0
    finally:
        await conn.close()


async def bench_generation(runtime: ServiceRuntime, dsn: str, n: int, label: str) -> dict[str, float]:
    """Load n families, generate a PKH tahap list; the bare INSERT … SELECT as baseline."""
    await load_households(dsn, n)
    tahap_id = await new_tahap(runtime, "PKH", label, 1)
    seconds, diff = await timed(lambda: in_tx(runtime, lambda s: generate(s, tahap_id=tahap_id, principal=PREP)))
    baseline = await raw_sql(dsn, BASELINE_LIST)
    await raw_sql(dsn, "DROP TABLE baseline_list")
    return {"seconds": seconds, "baseline": baseline, "listed": diff.listed_count}


async def bench_import(runtime: ServiceRuntime, dsn: str, n: int) -> dict[str, Any]:
    """A tahap of n lines (all families listed), a payer file with one row per line, then reconciliation."""
    await load_households(dsn, n)
    rule = RuleIn.model_validate(
        {
            "effective_from": "2025-01-01",
            "definition": {
                "desil_max": 10,
                "disqualifying_flags": [],
                "required_data_status": ["active", "inactive"],
                "amount": {"kind": "flat", "amount": 600_000},
            },
        }
    )
    # inactive families are still excluded by the data-inactive check: re-activate all for an exact line count
    await raw_sql(dsn, "UPDATE household_status SET data_status = 'active', status_reason = NULL")
    version = (await in_tx(runtime, lambda s: add_rule(s, code="SEMBAKO", body=rule, principal=PREP))).version
    tahap_id = await new_tahap(runtime, "SEMBAKO", "bench-import", version)
    await in_tx(runtime, lambda s: generate(s, tahap_id=tahap_id, principal=PREP))
    await in_tx(runtime, lambda s: approve(s, tahap_id=tahap_id, principal=KADIS))
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "disbursement"})
    try:
        line_ids = [r[0] for r in await conn.fetch("SELECT line_id FROM payment_line WHERE tahap_id = $1", tahap_id)]
    finally:
        await conn.close()
    path = write_payer_file(line_ids)
    schema = runtime.settings.schema_name

    async def run_import(session: Any) -> Any:
        with open_binary(path) as stream:
            return await import_report(
                session,
                tahap_id=tahap_id,
                source="bank",
                filename=path.name,
                stream=stream,
                principal=PREP,
                schema=schema,
            )

    seconds, report = await timed(lambda: in_tx(runtime, run_import))
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "disbursement"})
    try:
        await conn.execute(
            "CREATE TABLE baseline_copy (line_id bigint, status text, amount bigint, date date,"
            " reference text, failure_reason text)"
        )
        t0 = time.perf_counter()
        with open_binary(path) as stream:
            await conn.copy_to_table("baseline_copy", source=stream, format="csv", header=True)
        copy_baseline = time.perf_counter() - t0
    finally:
        await conn.close()
    rec_seconds, summary = await timed(
        lambda: in_tx(runtime, lambda s: reconcile(s, tahap_id=tahap_id, principal=PREP))
    )
    rec_baseline = await raw_sql(
        dsn,
        f"SELECT status, count(*), sum(amount) FROM payment_line WHERE tahap_id = '{tahap_id}' GROUP BY status",
    )
    remove(path)
    return {
        "lines": len(line_ids),
        "import_seconds": seconds,
        "import_baseline": copy_baseline,
        "applied": report.rows_applied,
        "errors": report.rows_error,
        "reconcile_seconds": rec_seconds,
        "reconcile_baseline": rec_baseline,
        "breaks": summary.breaks_open,
    }


async def main() -> None:
    """Run the three measurements and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=250_000)
    parser.add_argument("--large", type=int, default=2_500_000)
    parser.add_argument("--report", type=int, default=250_000)
    args = parser.parse_args()
    infra = start_infra()
    async with scratch_database(infra, "bench_disb") as db:
        settings = DisbursementSettings(
            database_url=infra.service_url("disbursement", db),
            bus="kafka",
            auto_migrate=True,
            run_workers=False,
            log_level="WARNING",
        )
        dsn = infra.service_url("disbursement", db, driver="postgresql")
        runtime = ServiceRuntime(disbursement_definition(settings))
        await runtime.migrate()
        try:
            small = await bench_generation(runtime, dsn, args.small, "bench-small")
            large = await bench_generation(runtime, dsn, args.large, "bench-large")
            imp = await bench_import(runtime, dsn, args.report)
        finally:
            await runtime.engine.dispose()
    m = machine()
    ratio = large["seconds"] / small["seconds"]
    size_ratio = args.large / args.small
    print(
        f"\nMachine: {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB RAM, {m['postgres_client']},"
        f" {m['date']}; peak RSS {peak_rss_mb():.0f} MB\n"
    )
    print("| measurement | size | service | raw SQL baseline | target |")
    print("|---|---|---|---|---|")
    print(
        f"| tahap list generation (PKH rule) | {args.small:,} families, {small['listed']:,} listed |"
        f" {small['seconds']:.2f} s | {small['baseline']:.2f} s (bare INSERT … SELECT) | < 5 s |"
    )
    print(
        f"| tahap list generation (PKH rule) | {args.large:,} families, {large['listed']:,} listed |"
        f" {large['seconds']:.2f} s | {large['baseline']:.2f} s (bare INSERT … SELECT) |"
        f" ~linear: x{ratio:.1f} for x{size_ratio:.0f} size |"
    )
    print(
        f"| payer-report import (CSV, streamed) | {imp['lines']:,} lines ({imp['applied']:,} applied,"
        f" {imp['errors']:,} errors) | {imp['import_seconds']:.2f} s | {imp['import_baseline']:.2f} s (bare COPY) |"
        " < 20 s |"
    )
    print(
        f"| reconciliation of the tahap | {imp['lines']:,} lines, breaks {imp['breaks']} |"
        f" {imp['reconcile_seconds']:.2f} s | {imp['reconcile_baseline']:.2f} s (GROUP BY status) | |"
    )
    write_result("disbursement", {"machine": m, "small": small, "large": large, "import": imp, "ratio": ratio})


if __name__ == "__main__":
    asyncio.run(main())
