"""Benchmark of the verification service against the local PostgreSQL and Kafka.

    .venv/bin/python bench/verification_campaign.py [--families 250000] [--approvals 10000]

Creates its own database (like tests/conftest.py), seeds the household read model set-based, then measures:
1. revalidation campaign creation through the service function (one INSERT … SELECT incl. the not-recently-verified
   and open-check filters and TKSK assignment), beside the bare INSERT … SELECT as a raw SQL baseline;
2. approvals of visited checks through `approve_check` in batches, and the time until the outbox is published to
   Kafka and, when the registry has a verification.completed handler, until the registry consumer applied them.
Prints a Markdown table. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.verification.app import definition as verification_definition
from services.verification.campaigns.schemas import CampaignIn
from services.verification.campaigns.service import create_campaign
from services.verification.groundchecks.service import approve_check
from services.verification.settings import VerificationSettings
from shared.auth.principal import Principal, Role
from shared.events.envelope import utcnow
from shared.events.topics import PROBE, VERIFICATION_OUTCOME
from shared.runtime.service import ServiceRuntime
from tests.support.infra import create_database, start_infra
from tests.support.kafka import start_group_at_end

KECAMATAN = [f"13.71.{i:02d}" for i in range(1, 12)]
BASELINE_SQL = """
INSERT INTO ground_check (household_id, kecamatan_code, kelurahan_code, reason, origin_ref, campaign_id, status,
                          assigned_to, assigned_role, due_at, created_at, updated_at)
SELECT h.household_id, h.kecamatan_code, h.kelurahan_code, 'revalidation', 'baseline', 0,
       CASE WHEN t.subject IS NULL THEN 'open' ELSE 'assigned' END, t.subject,
       CASE WHEN t.subject IS NULL THEN NULL ELSE 'tksk' END, now() + interval '14 days', now(), now()
FROM household h
LEFT JOIN (SELECT wilayah_code, min(subject) AS subject FROM officer WHERE role = 'tksk' AND active
           GROUP BY wilayah_code) t ON t.wilayah_code = h.kecamatan_code
WHERE h.kecamatan_code = ANY(:codes) AND h.data_status = 'active'
"""


def machine() -> str:
    """nproc, RAM and CPU model."""
    mem_kb = int(next(line for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line).split()[1])
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return f"{os.cpu_count()} CPUs ({model}), {mem_kb / 1024 / 1024:.1f} GiB RAM, PostgreSQL {pg_version()}"


def pg_version() -> str:
    try:
        out = subprocess.run(["psql", "--version"], capture_output=True, text=True, check=False).stdout
        return out.split()[-1] if out else "?"
    except OSError:
        return "?"


async def seed(rt: ServiceRuntime, families: int, kelurahan: list[tuple[str, str]]) -> float:
    """Families, one TKSK per kecamatan, 5 % verified a month ago: all set-based."""
    t0 = time.perf_counter()
    async with rt.engine.begin() as conn:
        await conn.execute(
            text(
                """
                INSERT INTO household (household_id, kecamatan_code, kelurahan_code, data_status, desil, desil_period,
                                       open_flags, version, updated_at, last_event_type, last_event_id)
                SELECT 'hh-' || lpad(g::text, 7, '0'), k.kec, k.kel,
                       CASE WHEN g % 20 = 0 THEN 'inactive' ELSE 'active' END,
                       1 + g % 10, '2026-Q3', '', 1, now(), 'household.registered', gen_random_uuid()::text
                FROM generate_series(1, :n) g
                JOIN unnest(CAST(:kels AS text[]), CAST(:kecs AS text[])) WITH ORDINALITY AS k(kel, kec, i)
                  ON k.i = 1 + g % :nk
                """
            ),
            {"n": families, "kels": [k for k, _ in kelurahan], "kecs": [c for _, c in kelurahan], "nk": len(kelurahan)},
        )
        await conn.execute(
            text(
                """
                INSERT INTO officer (subject, role, wilayah_code, active, updated_by, updated_at)
                SELECT 'tksk-' || c, 'tksk', c, true, 'bench', now() FROM unnest(CAST(:codes AS text[])) c
                """
            ),
            {"codes": KECAMATAN},
        )
        # The four-eyes rule needs the approver's NIK (as its keyed digest) and own family known: here a NIK that
        # is in no family, which the dinas has declared (no_registered_family).
        await conn.execute(
            text(
                """
                INSERT INTO officer (subject, role, wilayah_code, nik_digest, nik_masked, no_registered_family, active,
                                     updated_by, updated_at)
                VALUES ('verif-bench-2', 'verifikator', '13.71', md5('verif-bench-2') || md5('nik'), '1371********0001',
                        true, true, 'bench', now())
                """
            )
        )
        await conn.execute(
            text(
                """
                INSERT INTO ground_check (household_id, kecamatan_code, kelurahan_code, reason, status, due_at,
                                          created_at, updated_at, decided_at, outcome)
                SELECT household_id, kecamatan_code, kelurahan_code, 'payment_failed', 'approved',
                       now() - interval '40 days', now() - interval '50 days', now() - interval '30 days',
                       now() - interval '30 days', 'layak'
                FROM household WHERE right(household_id, 2) IN ('07', '57', '33', '81', '19')
                """
            )
        )
        for table in ("household", "ground_check", "officer"):
            await conn.execute(text(f"ANALYZE {table}"))
    return time.perf_counter() - t0


async def baseline(rt: ServiceRuntime) -> tuple[float, int]:
    """The bare INSERT … SELECT, rolled back."""
    async with rt.engine.connect() as conn:
        trans = await conn.begin()
        t0 = time.perf_counter()
        result = await conn.execute(text(BASELINE_SQL), {"codes": KECAMATAN})
        elapsed = time.perf_counter() - t0
        await trans.rollback()
    return elapsed, int(result.rowcount)


async def campaign(rt: ServiceRuntime, settings: VerificationSettings, *, keep: bool) -> tuple[float, int]:
    """create_campaign through the service function (committed only when `keep`)."""
    principal = Principal("verif-bench", Role.VERIFIKATOR, "13.71")
    body = CampaignIn(name="bench", kecamatan_codes=KECAMATAN, not_verified_months=12)
    async with rt.sessions() as session:
        trans = await session.begin()
        t0 = time.perf_counter()
        out = await create_campaign(session, principal=principal, settings=settings, body=body)
        if keep:
            await trans.commit()
        elapsed = time.perf_counter() - t0
        if not keep:
            await trans.rollback()
    return elapsed, out.created_checks


async def prepare_visits(rt: ServiceRuntime, n: int) -> list[int]:
    """n campaign checks marked visited by their TKSK (set-based; the visit itself is not what is measured)."""
    async with rt.engine.begin() as conn:
        ids = (
            await conn.execute(
                text(
                    """
                    UPDATE ground_check SET status = 'visited', submitted_by = assigned_to, submitted_role = 'tksk',
                           visited_at = now(), outcome = CASE WHEN id % 4 = 0 THEN 'tidak_layak' ELSE 'layak' END,
                           outcome_reason = CASE WHEN id % 4 = 0 THEN 'well_off' END, evidence_hash = md5(id::text) ||
                           md5(household_id), version = version + 1
                    WHERE id IN (SELECT id FROM ground_check WHERE status = 'assigned' AND campaign_id IS NOT NULL
                                 ORDER BY id LIMIT :n)
                    RETURNING id
                    """
                ),
                {"n": n},
            )
        ).scalars()
        return sorted(ids)


async def count(rt: ServiceRuntime, sql: str) -> int:
    async with rt.engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar_one())


async def approvals(
    rt: ServiceRuntime, ids: list[int], batch: int, registry: ServiceRuntime | None, registry_timeout: float
) -> dict[str, float]:
    """Approve through the service function in batches; time until published (and applied by the registry)."""
    principal = Principal("verif-bench-2", Role.VERIFIKATOR, "13.71")
    await rt.start_workers(relay=True, consume=False)
    t0 = time.perf_counter()
    for i in range(0, len(ids), batch):
        async with rt.sessions() as session, session.begin():
            for check_id in ids[i : i + batch]:
                await approve_check(session, outbox=rt.outbox, principal=principal, check_id=check_id)
    t_commit = time.perf_counter() - t0
    outbox = rt.definition.messaging.outbox
    while True:
        async with rt.sessions() as session:
            left = (
                await session.execute(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)))
            ).scalar_one()
        if left == 0:
            break
        await asyncio.sleep(0.05)
    t_published = time.perf_counter() - t0
    figures = {"commit_s": t_commit, "published_s": t_published}
    if registry is not None:
        inbox = registry.definition.messaging.inbox
        dead = registry.definition.messaging.dead_letter
        deadline = time.monotonic() + registry_timeout
        while time.monotonic() < deadline:
            async with registry.sessions() as session:
                seen = (
                    await session.execute(
                        select(func.count()).select_from(inbox).where(inbox.c.event_type == "verification.completed")
                    )
                ).scalar_one()
                failed = (await session.execute(select(func.count()).select_from(dead))).scalar_one()
            if seen + failed >= len(ids):
                break
            await asyncio.sleep(0.1)
        figures["registry_s"] = time.perf_counter() - t0
        figures["registry_applied"] = float(seen)
        figures["registry_dead"] = float(failed)
    return figures


async def seed_registry(registry: ServiceRuntime, ids_sql_rows: list[tuple[str, str, str]]) -> None:
    """The approved families as registry rows (set-based), so its handler can apply the outcomes."""
    async with registry.engine.begin() as conn:
        await conn.execute(
            text(
                """
                INSERT INTO family (id, no_kk, head_nik, address, rt, rw, kelurahan_code, kecamatan_code, source,
                                    desil, desil_period, version, created_at, created_by, updated_at, updated_by)
                SELECT h, lpad((1371000000000000 + row_number() OVER ())::text, 16, '0'),
                       lpad((1371010101900000 + row_number() OVER ())::text, 16, '0'),
                       'Jl. Bench', '001', '001', kel, kec, 'dtsen_import', 3, '2026-Q3', 1, now(), 'bench', now(),
                       'bench'
                FROM unnest(CAST(:h AS text[]), CAST(:kel AS text[]), CAST(:kec AS text[])) AS x(h, kel, kec)
                """
            ),
            {
                "h": [r[0] for r in ids_sql_rows],
                "kel": [r[1] for r in ids_sql_rows],
                "kec": [r[2] for r in ids_sql_rows],
            },
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--families", type=int, default=250_000)
    parser.add_argument("--approvals", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--no-registry", action="store_true", help="do not measure the registry consumer")
    parser.add_argument("--registry-timeout", type=float, default=180.0)
    args = parser.parse_args()

    infra = start_infra()
    name = await create_database(infra, "bench_verif")
    data_dir = Path("/tmp") / name
    common: dict[str, Any] = {
        "bus": "kafka",
        "kafka_bootstrap": infra.kafka_bootstrap,
        "data_dir": data_dir,
        "relay_poll_interval_ms": 100,
        "log_level": "WARNING",
    }
    settings = VerificationSettings(
        database_url=infra.service_url("verification", name), consumer_group=f"verification-{name}", **common
    )
    rt = ServiceRuntime(verification_definition(settings))
    registry_rt: ServiceRuntime | None = None
    results: list[tuple[str, str]] = []
    try:
        await rt.migrate()
        kelurahan: list[tuple[str, str]] = []
        registry_note = "registry has no verification.completed handler"
        try:
            from services.registry.app import definition as registry_definition
            from services.registry.settings import RegistrySettings

            reg_def = registry_definition(
                RegistrySettings(
                    database_url=infra.service_url("registry", name), consumer_group=f"registry-{name}", **common
                )
            )
            if args.no_registry:
                registry_note = "registry not measured (--no-registry)"
            elif "verification.completed" in reg_def.handlers:
                registry_rt = ServiceRuntime(reg_def)
                await registry_rt.migrate()
                async with registry_rt.engine.connect() as c:
                    kelurahan = [
                        (k, p)
                        for k, p in await c.execute(
                            text("SELECT code, parent_code FROM wilayah WHERE tingkat = 'kelurahan' ORDER BY code")
                        )
                    ]
        except Exception as exc:  # the registry is built in parallel: measure without it rather than fail
            registry_note = f"registry not measured ({type(exc).__name__}: {exc})"
            registry_rt = None
        if not kelurahan:
            kelurahan = [(f"{k}.{1000 + j}", k) for k in KECAMATAN for j in range(1, 10)]

        seed_s = await seed(rt, args.families, kelurahan)
        active = await count(rt, "SELECT count(*) FROM household WHERE data_status = 'active'")
        print(f"seeded in {seed_s:.1f} s", file=sys.stderr, flush=True)
        results.append(("seed read model (set-based)", f"{args.families:,} families in {seed_s:.2f} s"))

        b1, nb = await baseline(rt)
        c1, nc = await campaign(rt, settings, keep=False)
        b2, _ = await baseline(rt)
        c2, nc2 = await campaign(rt, settings, keep=True)
        assert nc == nc2
        results.append(("raw INSERT … SELECT baseline (no filters)", f"{nb:,} rows: {b1:.2f} s / {b2:.2f} s"))
        results.append(
            ("campaign via create_campaign (filters + TKSK)", f"{nc:,} checks: {c1:.2f} s / {c2:.2f} s (target < 10 s)")
        )

        ids = await prepare_visits(rt, args.approvals)
        if registry_rt is not None:
            async with rt.engine.connect() as c:
                rows = (
                    await c.execute(
                        text(
                            "SELECT household_id, kelurahan_code, kecamatan_code FROM ground_check WHERE id = ANY(:i)"
                        ),
                        {"i": ids},
                    )
                ).all()
            await seed_registry(registry_rt, [(r[0], r[1], r[2]) for r in rows])
            # Start at the end of every topic the registry reads, so it works only on this run's outcomes.
            await start_group_at_end(
                infra.kafka_bootstrap,
                registry_rt.settings.consumer_group or "registry",
                sorted({*registry_rt.definition.topics, VERIFICATION_OUTCOME, PROBE}),
            )
            await registry_rt.start_workers(relay=False, consume=True)
            registry_note = "registry consumer applied them"
        figures = await approvals(rt, ids, args.batch, registry_rt, args.registry_timeout)
        n = len(ids)
        results.append(
            (
                f"{n:,} approvals via approve_check (batches of {args.batch})",
                f"{figures['commit_s']:.2f} s = {n / figures['commit_s']:,.0f} approvals/s",
            )
        )
        results.append(
            (
                "… until the outbox is published to Kafka",
                f"{figures['published_s']:.2f} s = {n / figures['published_s']:,.0f} events/s end to end",
            )
        )
        if "registry_s" in figures:
            results.append(
                (
                    f"… until the {registry_note}",
                    f"{figures['registry_s']:.2f} s = "
                    f"{n / figures['registry_s']:,.0f} events/s ({int(figures['registry_applied']):,} applied, "
                    f"{int(figures['registry_dead']):,} dead-lettered)",
                )
            )
        else:
            results.append(("registry", registry_note))
        results.append(("active families selected", f"{active:,} active; 5 % verified 30 days ago are skipped"))
    finally:
        await rt.stop()
        if registry_rt is not None:
            await registry_rt.stop()
        admin = await asyncpg.connect(infra.admin_url("postgres"))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    print(f"\n### Verification campaign and approvals ({utcnow():%Y-%m-%d %H:%M} UTC)\n")
    print(f"Machine: {machine()}\n")
    print("| step | result |\n|---|---|")
    for step, value in results:
        print(f"| {step} | {value} |")


if __name__ == "__main__":
    asyncio.run(main())
