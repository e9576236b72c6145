"""The `tepat` command: serve, migrate, run workers, issue dev tokens, replay dead letters."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from services.gateway.settings import GatewaySettings
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


async def _worker(name: str, *, relay: bool, consume: bool) -> None:
    runtime = ServiceRuntime(service_definition(name))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start_workers(relay=relay, consume=consume)
    print(f"{name}: worker running (relay={relay}, consume={consume})", flush=True)
    try:
        await stop.wait()
    finally:
        await runtime.stop()


async def _audit_verify(name: str) -> int:
    runtime = ServiceRuntime(service_definition(name))
    try:
        async with runtime.sessions() as session:
            checked, broken = await runtime.audit.verify(session)
    finally:
        await runtime.engine.dispose()
    if broken is None:
        print(f"{name}: audit chain intact ({checked} entries)")
        return 0
    print(f"{name}: audit chain BROKEN at entry {broken.seq}: {broken.reason} ({checked} entries verified before it)")
    return 1


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


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    from services.gateway.app import create_app

    settings = GatewaySettings()
    host = args.host or settings.host
    port = args.port or settings.port
    from demo.first_start import prepare

    prepare(settings, f"http://{host}:{port}")
    print(f"Tepat gateway on http://{host}:{port}  (API docs: http://{host}:{port}/docs)", flush=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


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
    """Rows read and rows/s on stderr, redrawn at most twice a second."""

    def __init__(self) -> None:
        import time

        self._clock = time.monotonic
        self.start = self._clock()
        self.last = 0.0

    def __call__(self, rows: int) -> None:
        now = self._clock()
        if now - self.last < 0.5:
            return
        self.last = now
        rate = rows / max(now - self.start, 1e-9)
        print(f"\r  read {rows:>10,} rows  {rate:>9,.0f} rows/s", end="", file=sys.stderr, flush=True)


async def _import(kind: str, path: Path, source: str | None) -> int:
    import json

    from services.registry.families.changes import Actor
    from services.registry.imports.service import create_job, new_job_path, run_job

    runtime = ServiceRuntime(service_definition("registry"))
    try:
        job_id, _ = new_job_path(runtime.settings.data_dir)
        async with runtime.sessions() as session, session.begin():
            await create_job(
                session,
                job_id=job_id,
                kind=kind,
                file_name=path.name,
                path=path,
                size=_file_size(path),
                actor=Actor("cli", Role.SYSTEM.value),
                wilayah="13.71",
                source=source,
            )
        bar = _ProgressBar()
        job = await run_job(runtime.sessions, job_id, progress=bar)
        print(file=sys.stderr)
        print(json.dumps({k: job[k] for k in ("id", "kind", "status", "counts", "error")}, default=str, indent=2))
        return 0 if job["status"] == "succeeded" else 1
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
    from demo.generator import generate_city

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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `tepat` command."""
    parser = argparse.ArgumentParser(prog="tepat", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve the whole system from one process (embedded mode)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)

    p = sub.add_parser("migrate", help="bring service schemas to the newest migration")
    p.add_argument("services", nargs="*", help="registry, verification, disbursement (default: all)")
    p.add_argument("--all", action="store_true")

    for cmd, text in (
        ("relay", "outbox relay only"),
        ("consume", "consumer only"),
        ("worker", "relay + consumer"),
    ):
        p = sub.add_parser(cmd, help=f"run a service's {text} as a standalone process")
        p.add_argument("service", choices=list(SERVICE_APPS))

    p = sub.add_parser("audit-verify", help="verify a service's audit hash chain; exit 1 at the first broken link")
    p.add_argument("service", choices=list(SERVICE_APPS))

    p = sub.add_parser("dlq-replay", help="retry a service's dead-lettered events")
    p.add_argument("service", choices=list(SERVICE_APPS))

    p = sub.add_parser("makemigration", help="(developers) autogenerate a migration for a service")
    p.add_argument("service", choices=list(SERVICE_APPS))
    p.add_argument("-m", "--message", required=True)

    p = sub.add_parser("schemas", help="write the JSON Schemas of every event type")
    p.add_argument("--out", default="shared/events/schemas")

    p = sub.add_parser("token", help="issue a dev token (embedded mode and tests)")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--wilayah", default="13.71", help="scope: 13.71 (kota), 13.71.01 (kecamatan), 13.71.01.1001")
    p.add_argument("--subject")
    p.add_argument("--ttl", type=int, default=8 * 3600)
    p.add_argument("--data-dir")

    p = sub.add_parser("import-extract", help="import a national (DTSEN) extract CSV into the registry")
    p.add_argument("file")

    p = sub.add_parser("import-list", help="import an external list (death / excluded occupations) into the registry")
    p.add_argument("kind", choices=["death", "excluded"])
    p.add_argument("file")
    p.add_argument("--source", help="who sent the list (default: dukcapil / excluded_list)")

    p = sub.add_parser("generate-city", help="write a deterministic synthetic city (extract and lists) as CSV")
    p.add_argument("--families", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    p.add_argument("--period", default="2026-Q3", help="newest desil period (extract.csv)")
    p.add_argument("--quarters", type=int, default=1, help="also write extract_<period>.csv for earlier quarters")

    p = sub.add_parser("scenario", help="play two quarters of a synthetic city end to end through the API")
    p.add_argument("--families", type=int, default=300)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--base-url", help="a running gateway (default: an embedded one on a temporary data folder)")
    p.add_argument("--data-dir", help="with --base-url: the server's data folder (dev token keys)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")

    p = sub.add_parser("dci-partner", help="register (or update) a DCI Social Registry API partner")
    from services.registry.dci import commands as dci_commands

    dci_commands.add_arguments(p)

    args = parser.parse_args(argv)
    if args.command == "serve":
        _serve(args)
    elif args.command == "migrate":
        names = list(SERVICE_APPS) if args.all or not args.services else args.services
        asyncio.run(_migrate(names))
    elif args.command in {"relay", "consume", "worker"}:
        asyncio.run(_worker(args.service, relay=args.command != "consume", consume=args.command != "relay"))
    elif args.command == "audit-verify":
        return asyncio.run(_audit_verify(args.service))
    elif args.command == "dlq-replay":
        asyncio.run(_replay(args.service))
    elif args.command == "makemigration":
        _make_migration(args.service, args.message)
    elif args.command == "schemas":
        from shared.events.catalog import export_json_schemas

        for path in export_json_schemas(Path(args.out)):
            print(path)
    elif args.command == "token":
        _token(args)
    elif args.command == "import-extract":
        return _import_file("extract", args.file, None)
    elif args.command == "import-list":
        return _import_file(args.kind, args.file, args.source)
    elif args.command == "generate-city":
        _generate_city(args)
    elif args.command == "scenario":
        _scenario(args)
    elif args.command == "dci-partner":
        partner = dci_commands.partner_from(args)
        if partner is None:
            return 2
        return asyncio.run(dci_commands.save(ServiceRuntime(service_definition("registry")), partner))
    return 0


if __name__ == "__main__":
    sys.exit(main())
