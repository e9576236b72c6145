"""The `tepat` command: serve, migrate, run workers, issue dev tokens, replay dead letters."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from services.disbursement.app import definition as disbursement_definition
from services.gateway.settings import GatewaySettings
from services.registry.app import definition as registry_definition
from services.verification.app import definition as verification_definition
from shared.auth.principal import Role
from shared.auth.tokens import PRIVATE_KEY_NAME, ensure_dev_keys, issue_dev_token
from shared.runtime.service import ServiceDefinition, ServiceRuntime

DEFINITIONS: dict[str, Callable[[], ServiceDefinition]] = {
    "registry": registry_definition,
    "verification": verification_definition,
    "disbursement": disbursement_definition,
}


async def _migrate(names: list[str]) -> None:
    for name in names:
        runtime = ServiceRuntime(DEFINITIONS[name]())
        try:
            await runtime.migrate()
            print(f"{name}: schema at head")
        finally:
            await runtime.engine.dispose()


async def _worker(name: str, *, relay: bool, consume: bool) -> None:
    runtime = ServiceRuntime(DEFINITIONS[name]())
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


async def _replay(name: str) -> None:
    runtime = ServiceRuntime(DEFINITIONS[name]())
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
    print(f"Tepat gateway on http://{host}:{port}  (API docs: http://{host}:{port}/docs)", flush=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


def _make_migration(name: str, message: str) -> None:
    """Autogenerate a migration by diffing the models against a scratch SQLite at the current head."""
    import tempfile

    from alembic import command
    from sqlalchemy import create_engine

    from shared.db.migrations import alembic_config

    definition = DEFINITIONS[name]()
    cfg = alembic_config(definition.migrations, metadata=definition.metadata, schema=None)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/scratch.db")
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            command.revision(cfg, message=message, autogenerate=True)
        engine.dispose()


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
        p.add_argument("service", choices=list(DEFINITIONS))

    p = sub.add_parser("dlq-replay", help="retry a service's dead-lettered events")
    p.add_argument("service", choices=list(DEFINITIONS))

    p = sub.add_parser("makemigration", help="(developers) autogenerate a migration for a service")
    p.add_argument("service", choices=list(DEFINITIONS))
    p.add_argument("-m", "--message", required=True)

    p = sub.add_parser("schemas", help="write the JSON Schemas of every event type")
    p.add_argument("--out", default="shared/events/schemas")

    p = sub.add_parser("token", help="issue a dev token (embedded mode and tests)")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--wilayah", default="13.71", help="scope: 13.71 (kota), 13.71.01 (kecamatan), 13.71.01.1001")
    p.add_argument("--subject")
    p.add_argument("--ttl", type=int, default=8 * 3600)
    p.add_argument("--data-dir")

    args = parser.parse_args(argv)
    if args.command == "serve":
        _serve(args)
    elif args.command == "migrate":
        names = list(DEFINITIONS) if args.all or not args.services else args.services
        asyncio.run(_migrate(names))
    elif args.command in {"relay", "consume", "worker"}:
        asyncio.run(_worker(args.service, relay=args.command != "consume", consume=args.command != "relay"))
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
