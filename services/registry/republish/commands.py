"""`tepat republish-households`: the ops route's republish from the command line (no gateway time limit, so the
way to backfill a whole city)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from dataclasses import asdict

from services.registry.families.changes import Actor
from services.registry.republish.rules import DEFAULT_BATCH, ScopeError, check_batch_size, scope_of
from services.registry.republish.service import RepublishRun, republish_households
from shared.auth.principal import Role
from shared.runtime.service import ServiceRuntime


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `tepat republish-households`."""
    p.add_argument("--wilayah", default="13.71", help="only the families of this kota, kecamatan or kelurahan code")
    p.add_argument("--family-id", action="append", help="only this family (household id; repeatable)")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, help="families a transaction")


def _progress(run: RepublishRun) -> None:
    print(f"  batch {run.batches}: {run.families:,} families republished", file=sys.stderr, flush=True)


async def republish(runtime: ServiceRuntime, args: argparse.Namespace) -> int:
    """Republish the families the options select; prints the run as JSON (exit 2: invalid options)."""
    try:
        scope = scope_of(args.wilayah, args.family_id)
        check_batch_size(args.batch_size)
    except ScopeError as exc:
        print(f"invalid {exc.field}: {exc}", file=sys.stderr)
        return 2
    run = await republish_households(
        runtime.sessions,
        # Who ran it, as the operating system knows them: the history rows' and audit entries' actor.
        actor=Actor(f"cli:{getpass.getuser()}", Role.SYSTEM.value),
        scope=scope,
        audit=runtime.audit,
        batch_size=args.batch_size,
        on_batch=_progress,
    )
    print(json.dumps(asdict(run), indent=2))
    return 0
