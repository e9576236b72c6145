"""The `tepat` command: serve, migrate, run workers, issue dev tokens, replay dead letters, republish households."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import importlib
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.gateway.settings import GatewaySettings
from shared import failpoints
from shared.auth.principal import Role
from shared.auth.tokens import PRIVATE_KEY_NAME, ensure_dev_keys, issue_dev_token
from shared.runtime.service import ServiceDefinition, ServiceRuntime

# Imported when a command needs them: each service's app module loads its routers and models, and a command
# about one service (an import from cron, a migration) should not start by loading all three.
SERVICE_APPS = {
    "registry": "services.registry.app",
    "verification": "services.verification.app",
    "disbursement": "services.disbursement.app",
}


def service_definition(name: str) -> ServiceDefinition:
    """The named service's definition (its app module imported now)."""
    factory: Callable[[], ServiceDefinition] = importlib.import_module(SERVICE_APPS[name]).definition
    return factory()


async def _migrate(names: list[str]) -> None:
    for name in names:
        runtime = ServiceRuntime(service_definition(name))
        try:
            await runtime.migrate()
            print(f"{name}: schema at head")
        finally:
            await runtime.engine.dispose()


async def _worker(name: str, *, relay: bool, consume: bool, health_host: str, health_port: int) -> None:
    from shared.runtime.worker_health import health_server

    runtime = ServiceRuntime(service_definition(name))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # The scheduler runs in `tepat worker` (relay and consumer both), not in the single-purpose processes.
    await runtime.start_workers(relay=relay, consume=consume, schedule=relay and consume)
    server = health_server(runtime, health_host, health_port) if health_port else None
    serving = asyncio.create_task(server.serve()) if server is not None else None
    where = f", health on http://{health_host}:{health_port}/healthz" if health_port else ""
    print(f"{name}: worker running (relay={relay}, consume={consume}{where})", flush=True)
    try:
        await stop.wait()
    finally:
        # Not wait_for: it would cancel the stop and then wait for the cancellation, which a stuck step may not honour.
        stopping = asyncio.create_task(_stop_worker(runtime, server, serving))
        done, _ = await asyncio.wait({stopping}, timeout=STOP_DEADLINE_S)
        if not done:
            _exit_stuck(name)
        stopping.result()


# Inside Docker's default stop grace period (10 s), after which it would send SIGKILL without a word. Everything a
# worker does is transactional (outbox, inbox, jobs), so ending it here loses nothing; the log says what hung.
STOP_DEADLINE_S = 9.0
STUCK_EXIT_STATUS = 70  # EX_SOFTWARE


async def _stop_worker(runtime: ServiceRuntime, server: Any, serving: asyncio.Task[None] | None) -> None:
    await failpoints.stall("worker_stop_stalls")
    if server is not None and serving is not None:
        server.should_exit = True
        await serving
    await runtime.stop()


def _exit_stuck(name: str) -> None:
    print(f"{name}: worker did not stop within {STOP_DEADLINE_S:.0f}s of the signal; still pending:", flush=True)
    for task in asyncio.all_tasks():
        if task is not asyncio.current_task():
            task.print_stack(limit=8, file=sys.stdout)
    sys.stdout.flush()
    os._exit(STUCK_EXIT_STATUS)


async def _audit_verify(name: str) -> int:
    runtime = ServiceRuntime(service_definition(name))
    try:
        async with runtime.sessions() as session:
            status = await runtime.audit.status(session)
    finally:
        await runtime.engine.dispose()
    broken = status.broken
    if broken is not None:
        print(
            f"{name}: audit chain BROKEN at entry {broken.seq}: {broken.reason} "
            f"({status.checked} entries verified before it)"
        )
        return 1
    if status.anchored_seq is None:
        print(
            f"{name}: audit chain intact ({status.checked} entries), NOT ANCHORED: no signed checkpoint covers it "
            f"(run `tepat audit-checkpoint {name}`)"
        )
    else:
        print(
            f"{name}: audit chain intact ({status.checked} entries; signed checkpoints up to entry "
            f"{status.anchored_seq} of {status.anchored_at}, {status.unanchored} entries after it)"
        )
    return 0


async def _audit_checkpoint(name: str) -> int:
    from shared.audit.chain import AuditChainBroken

    runtime = ServiceRuntime(service_definition(name))
    try:
        checkpoint = await runtime.audit.write_checkpoint(runtime.sessions)
    except AuditChainBroken as exc:
        print(f"{name}: checkpoint NOT signed: {exc}")
        return 1
    finally:
        await runtime.engine.dispose()
    if checkpoint is None:
        print(f"{name}: nothing new since the last checkpoint")
    else:
        print(f"{name}: signed checkpoint at entry {checkpoint.seq} ({checkpoint.head}), key {checkpoint.key_id}")
    return 0


async def _replay(name: str) -> None:
    runtime = ServiceRuntime(service_definition(name))
    try:
        consumer = runtime.make_consumer()
        if consumer is None:
            print(f"{name} consumes no events")
            return
        applied, failed = await consumer.replay_dead_letters()
        print(f"{name}: replayed {applied} dead letters, {failed} still failing")
    finally:
        await runtime.engine.dispose()


async def _jobs_list(names: list[str]) -> None:
    for name in names:
        runtime = ServiceRuntime(service_definition(name))
        try:
            scheduler = runtime.scheduler
            for job in scheduler.jobs.values():
                last = await scheduler.last_run(job.name)
                seen = f"last {last.status} at {last.started_at.isoformat()} {last.counts}" if last else "never run"
                print(f"{name}.{job.name}  every {job.every}  {seen}  ({job.description})")
        finally:
            await runtime.engine.dispose()


def _job_service(name: str) -> tuple[str, str] | None:
    """`service.job`, or a job name declared by exactly one service."""
    if "." in name:
        service, job = name.split(".", 1)
        return (service, job) if service in SERVICE_APPS else None
    owners = [s for s in SERVICE_APPS if any(j.name == name for j in _declared_jobs(s))]
    return (owners[0], name) if len(owners) == 1 else None


def _declared_jobs(service: str) -> list[Any]:
    from shared.runtime.jobs import outbox_health_job

    definition = service_definition(service)
    return [outbox_health_job(definition.messaging), *definition.jobs]


async def _jobs_run(service: str, job: str) -> int:
    runtime = ServiceRuntime(service_definition(service))
    try:
        if job not in runtime.scheduler.jobs:
            print(f"{service} has no job {job}", file=sys.stderr)
            return 2
        run = await runtime.scheduler.run_job(job, force=True, trigger="manual")
    finally:
        await runtime.engine.dispose()
    if run is None:
        print(f"{service}.{job} is running in another instance right now; nothing done", file=sys.stderr)
        return 1
    print(f"{service}.{job}: {run.status} {run.counts}" + (f" ({run.error})" if run.error else ""))
    return 0 if run.status == "succeeded" else 1


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    from services.gateway.app import create_app
    from services.gateway.headers import server_limits

    settings = GatewaySettings()
    host = args.host or settings.host
    port = args.port or settings.port
    from demo.first_start import prepare

    prepare(settings, f"http://{host}:{port}")
    print(f"Tepat gateway on http://{host}:{port}  (API docs: http://{host}:{port}/docs)", flush=True)
    uvicorn.run(
        create_app(settings), host=host, port=port, log_level="warning", **server_limits(settings.max_header_bytes)
    )


def _make_migration(name: str, message: str) -> None:
    """Autogenerate a migration by diffing the models against a scratch SQLite at the current head."""
    import tempfile

    from alembic import command
    from sqlalchemy import create_engine

    from shared.db.migrations import alembic_config

    definition = service_definition(name)
    cfg = alembic_config(definition.migrations, metadata=definition.metadata, schema=None)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/scratch.db")
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            command.revision(cfg, message=message, autogenerate=True)
        engine.dispose()


class _ProgressBar:
    """On stderr (rich): a line per phase of the job ([step/steps] name, the previous phase's seconds) and, while
    reading, a bar of rows read against the file's rows with rate and ETA (live on a terminal; in a log, the line
    `read N rows  R rows/s` when reading ends)."""

    def __init__(self, total_rows: int | None) -> None:
        import time

        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._clock = time.monotonic
        self.start = self._clock()
        self.phase: str | None = None
        self.console = Console(stderr=True, highlight=False)
        self.bar = Progress(
            TextColumn("  reading"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]:>9,.0f} rows/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self.rows = self.bar.add_task("reading", total=total_rows, rate=0.0)

    def __enter__(self) -> _ProgressBar:
        self.bar.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.bar.stop()

    def __call__(self, progress: Any) -> None:
        if progress.current != self.phase:
            if self.phase == "reading":
                self._read_done(progress.rows)
            self.phase = progress.current
            done = progress.done[-1] if progress.done else None
            took = f"  ({done['phase']} took {done['seconds']:.2f} s)" if done else ""
            step = f"[{progress.step}/{len(progress.phases)}]"
            self.console.print(f"  {step} {self.phase}{took}", markup=False)
            return
        rate = progress.rows / max(self._clock() - self.start, 1e-9)
        self.bar.update(self.rows, completed=progress.rows, rate=rate)

    def _read_done(self, rows: int) -> None:
        rate = rows / max(self._clock() - self.start, 1e-9)
        self.bar.update(self.rows, completed=rows, total=rows, rate=rate)
        self.bar.stop()
        self.console.print(f"  read {rows:,} rows  {rate:,.0f} rows/s", markup=False)


def _data_rows(path: Path) -> int:
    """About how many rows a CSV file holds (lines after the header): the bar's total, for the ETA."""
    lines = 0
    last = b"\n"
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return max(lines + (last != b"\n") - 1, 0)


async def _import(kind: str, path: Path, source: str | None) -> int:
    import json

    from services.registry.families.changes import Actor
    from services.registry.imports.progress import EXTRACT_PHASES, LIST_PHASES, ImportProgress
    from services.registry.imports.service import create_job, new_job_path, run_job

    runtime = ServiceRuntime(service_definition("registry"))
    try:
        if not await _schema_ready(runtime):
            return 2
        job_id, _ = new_job_path(runtime.settings.data_dir)
        async with runtime.sessions() as session, session.begin():
            await create_job(
                session,
                job_id=job_id,
                kind=kind,
                file_name=path.name,
                path=path,
                size=_file_size(path),
                # Who ran it, as the operating system knows them: the audit entry's actor.
                actor=Actor(f"cli:{getpass.getuser()}", Role.SYSTEM.value),
                wilayah="13.71",
                source=source,
            )
        phases = EXTRACT_PHASES if kind == "extract" else LIST_PHASES
        with _ProgressBar(_data_rows(path)) as bar:
            job = await run_job(runtime.sessions, job_id, progress=ImportProgress(phases, bar), audit=runtime.audit)
        print(
            json.dumps(
                {k: job[k] for k in ("id", "kind", "status", "counts", "progress", "error")}, default=str, indent=2
            )
        )
        return 0 if job["status"] == "succeeded" else 1
    finally:
        await runtime.engine.dispose()


async def _schema_ready(runtime: ServiceRuntime) -> bool:
    """Migrate first where the service would at start-up (embedded mode: `tepat serve` does the same on an empty
    data folder); elsewhere say what to run instead of failing on a missing table."""
    settings = runtime.settings
    if settings.auto_migrate if settings.auto_migrate is not None else not settings.is_postgres:
        await runtime.migrate()
        return True
    from sqlalchemy import inspect

    schema = settings.schema_name if settings.is_postgres else None
    async with runtime.engine.connect() as conn:
        present = await conn.run_sync(lambda c: inspect(c).has_table("import_job", schema=schema))
    if not present:
        print(
            f"the {settings.service_name} schema is not migrated: run `tepat migrate registry` first", file=sys.stderr
        )
    return bool(present)


async def _republish(args: argparse.Namespace) -> int:
    from services.registry.republish import commands as republish_commands

    runtime = ServiceRuntime(service_definition("registry"))
    try:
        if not await _schema_ready(runtime):
            return 2
        return await republish_commands.republish(runtime, args)
    finally:
        await runtime.engine.dispose()


def _file_size(path: Path) -> int:
    return path.stat().st_size


def _import_file(kind: str, file: str, source: str | None) -> int:
    path = Path(file).resolve()
    if not path.is_file():
        print(f"no such file: {path}", file=sys.stderr)
        return 2
    return asyncio.run(_import(kind, path, source))


def _generate_city(args: argparse.Namespace) -> None:
    from demo.generator import generate_city, generate_defect_city

    if args.audit_defects:
        city = generate_defect_city(Path(args.out), families_count=args.families, seed=args.seed)
        print(f"{len(city.valid):,} valid people, {len(city.planted):,} planted defects")
        for path in (city.extract, city.second_extract, city.ground_truth):
            print(path)
        return

    stats = generate_city(
        Path(args.out), families_count=args.families, seed=args.seed, period=args.period, quarters=args.quarters
    )
    print(
        f"{stats.families:,} families, {stats.members:,} members, {stats.death_rows:,} death list rows, "
        f"{stats.excluded_rows:,} excluded list rows"
    )
    for path in stats.files:
        print(path)


def _scenario(args: argparse.Namespace) -> None:
    import json
    import tempfile

    from demo.scenario import run_embedded, run_remote

    def log(text: str) -> None:
        print(f"- {text}", file=sys.stderr, flush=True)

    if args.base_url:
        data_dir = Path(args.data_dir or GatewaySettings().data_dir)
        summary = asyncio.run(
            run_remote(base_url=args.base_url, data_dir=data_dir, families=args.families, seed=args.seed, log=log)
        )
    else:
        with tempfile.TemporaryDirectory(prefix="tepat-scenario-data-") as tmp:
            summary = asyncio.run(run_embedded(families=args.families, seed=args.seed, data_dir=Path(tmp), log=log))
    print(json.dumps(summary.as_dict(), indent=2) if args.json else summary.render())


def _token(args: argparse.Namespace) -> None:
    data_dir = Path(args.data_dir or GatewaySettings().data_dir)
    ensure_dev_keys(data_dir)
    token = issue_dev_token(
        (data_dir / PRIVATE_KEY_NAME).read_bytes(),
        subject=args.subject or f"{args.role}@{args.wilayah}",
        role=args.role,
        wilayah=args.wilayah,
        ttl_s=args.ttl,
        client_type="system" if args.role == Role.SYSTEM else "user",
    )
    print(token)


Handler = Callable[[argparse.Namespace], int]


def _cmd_serve(args: argparse.Namespace) -> int:
    _serve(args)
    return 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    asyncio.run(_migrate(list(SERVICE_APPS) if args.all or not args.services else args.services))
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    # One handler for relay, consume and worker: the command names what runs.
    asyncio.run(
        _worker(
            args.service,
            relay=args.command != "consume",
            consume=args.command != "relay",
            health_host=args.health_host,
            health_port=args.health_port,
        )
    )
    return 0


def _cmd_jobs_list(args: argparse.Namespace) -> int:
    asyncio.run(_jobs_list(args.services or list(SERVICE_APPS)))
    return 0


def _cmd_jobs_run(args: argparse.Namespace) -> int:
    target = _job_service(args.name)
    if target is None:
        print(f"unknown or ambiguous job {args.name!r} (use SERVICE.JOB)", file=sys.stderr)
        return 2
    return asyncio.run(_jobs_run(*target))


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    return asyncio.run(_audit_verify(args.service))


def _cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    return asyncio.run(_audit_checkpoint(args.service))


def _cmd_dlq_replay(args: argparse.Namespace) -> int:
    asyncio.run(_replay(args.service))
    return 0


def _cmd_makemigration(args: argparse.Namespace) -> int:
    _make_migration(args.service, args.message)
    return 0


def _cmd_schemas(args: argparse.Namespace) -> int:
    from shared.events.catalog import export_json_schemas

    for path in export_json_schemas(Path(args.out)):
        print(path)
    return 0


def _cmd_token(args: argparse.Namespace) -> int:
    _token(args)
    return 0


def _cmd_import_extract(args: argparse.Namespace) -> int:
    return _import_file("extract", args.file, None)


def _cmd_import_list(args: argparse.Namespace) -> int:
    return _import_file(args.kind, args.file, args.source)


def _cmd_republish_households(args: argparse.Namespace) -> int:
    return asyncio.run(_republish(args))


def _cmd_generate_city(args: argparse.Namespace) -> int:
    _generate_city(args)
    return 0


def _cmd_scenario(args: argparse.Namespace) -> int:
    _scenario(args)
    return 0


def _cmd_dci_partner(args: argparse.Namespace) -> int:
    from services.registry.dci import commands as dci_commands

    partner = dci_commands.partner_from(args)
    if partner is None:
        return 2
    return asyncio.run(dci_commands.save(ServiceRuntime(service_definition("registry")), partner))


def _cmd_dci_callbacks(args: argparse.Namespace) -> int:
    from services.registry.dci import commands as dci_commands

    return asyncio.run(dci_commands.callbacks(ServiceRuntime(service_definition("registry")), args))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `tepat` command."""
    parser = argparse.ArgumentParser(prog="tepat", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve the whole system from one process (embedded mode)")
    p.set_defaults(handler=_cmd_serve)
    p.add_argument("--host")
    p.add_argument("--port", type=int)

    p = sub.add_parser("migrate", help="bring service schemas to the newest migration")
    p.set_defaults(handler=_cmd_migrate)
    p.add_argument("services", nargs="*", help="registry, verification, disbursement (default: all)")
    p.add_argument("--all", action="store_true")

    for cmd, text in (
        ("relay", "outbox relay only"),
        ("consume", "consumer only"),
        ("worker", "relay + consumer"),
    ):
        p = sub.add_parser(cmd, help=f"run a service's {text} as a standalone process")
        p.set_defaults(handler=_cmd_worker)
        p.add_argument("service", choices=list(SERVICE_APPS))
        p.add_argument("--health-host", default="127.0.0.1", help="where /healthz and /metrics listen")
        p.add_argument("--health-port", type=int, default=9100, help="port of /healthz and /metrics (0: none)")

    p = sub.add_parser("jobs", help="list the scheduled jobs and their last run, or run one now")
    jobs_sub = p.add_subparsers(dest="jobs_command", required=True)
    q = jobs_sub.add_parser("list", help="every job of the services, with its last run")
    q.set_defaults(handler=_cmd_jobs_list)
    q.add_argument("services", nargs="*", help="registry, verification, disbursement (default: all)")
    q = jobs_sub.add_parser("run", help="run one job now (recorded like a scheduled run)")
    q.set_defaults(handler=_cmd_jobs_run)
    q.add_argument("name", help="SERVICE.JOB, or JOB when one service declares it (e.g. objections-lapse)")

    p = sub.add_parser(
        "audit-verify",
        help="verify a service's audit hash chain against its signed checkpoints; exit 1 at the first broken link",
    )
    p.set_defaults(handler=_cmd_audit_verify)
    p.add_argument("service", choices=list(SERVICE_APPS))

    p = sub.add_parser(
        "audit-checkpoint", help="sign and publish a checkpoint of a service's audit chain (for cron/scheduler)"
    )
    p.set_defaults(handler=_cmd_audit_checkpoint)
    p.add_argument("service", choices=list(SERVICE_APPS))

    p = sub.add_parser("dlq-replay", help="retry a service's dead-lettered events")
    p.set_defaults(handler=_cmd_dlq_replay)
    p.add_argument("service", choices=list(SERVICE_APPS))

    p = sub.add_parser("makemigration", help="(developers) autogenerate a migration for a service")
    p.set_defaults(handler=_cmd_makemigration)
    p.add_argument("service", choices=list(SERVICE_APPS))
    p.add_argument("-m", "--message", required=True)

    p = sub.add_parser("schemas", help="write the JSON Schemas of every event type")
    p.set_defaults(handler=_cmd_schemas)
    p.add_argument("--out", default="shared/events/schemas")

    p = sub.add_parser("token", help="issue a dev token (embedded mode and tests)")
    p.set_defaults(handler=_cmd_token)
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--wilayah", default="13.71", help="scope: 13.71 (kota), 13.71.01 (kecamatan), 13.71.01.1001")
    p.add_argument("--subject")
    p.add_argument("--ttl", type=int, default=8 * 3600)
    p.add_argument("--data-dir")

    p = sub.add_parser("import-extract", help="import a national (DTSEN) extract CSV into the registry")
    p.set_defaults(handler=_cmd_import_extract)
    p.add_argument("file")

    p = sub.add_parser("import-list", help="import an external list (death / excluded occupations) into the registry")
    p.set_defaults(handler=_cmd_import_list)
    p.add_argument("kind", choices=["death", "excluded"])
    p.add_argument("file")
    p.add_argument("--source", help="who sent the list (default: dukcapil / excluded_list)")

    p = sub.add_parser(
        "republish-households",
        help="send the current state of families again on registry.household.v1 (backfill consumers' read models)",
    )
    p.set_defaults(handler=_cmd_republish_households)
    from services.registry.republish import commands as republish_commands

    republish_commands.add_arguments(p)

    p = sub.add_parser("generate-city", help="write a deterministic synthetic city (extract and lists) as CSV")
    p.set_defaults(handler=_cmd_generate_city)
    p.add_argument("--families", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    p.add_argument("--period", default="2026-Q3", help="newest desil period (extract.csv)")
    p.add_argument("--quarters", type=int, default=1, help="also write extract_<period>.csv for earlier quarters")
    p.add_argument(
        "--audit-defects",
        action="store_true",
        help="plant the correction-queue defects instead; write extract_second.csv and ground_truth.json",
    )

    p = sub.add_parser("scenario", help="play two quarters of a synthetic city end to end through the API")
    p.set_defaults(handler=_cmd_scenario)
    p.add_argument("--families", type=int, default=300)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--base-url", help="a running gateway (default: an embedded one on a temporary data folder)")
    p.add_argument("--data-dir", help="with --base-url: the server's data folder (dev token keys)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")

    p = sub.add_parser("dci-partner", help="register (or update) a DCI Social Registry API partner")
    p.set_defaults(handler=_cmd_dci_partner)
    from services.registry.dci import commands as dci_commands

    dci_commands.add_arguments(p)
    p = sub.add_parser("dci-callbacks", help="list DCI callbacks (default: the dead ones) or queue dead ones again")
    p.set_defaults(handler=_cmd_dci_callbacks)
    dci_commands.add_callback_arguments(p)

    args = parser.parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
