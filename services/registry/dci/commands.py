"""`tepat dci-partner` (register a DCI partner, same rules as the admin API) and `tepat dci-callbacks` (list and
retry callbacks to partners)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pydantic import ValidationError

from services.registry.dci.schemas import PartnerIn
from services.registry.dci.service import list_callbacks, register_partner, retry_dead_callbacks
from shared.events.envelope import utcnow
from shared.runtime.service import ServiceRuntime


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `tepat dci-partner`."""
    p.add_argument("--sender-id", required=True, help="the sender_id the partner puts in every header")
    p.add_argument("--name", required=True)
    p.add_argument("--oauth-subject", required=True, help="subject of the partner's OAuth2 token (its client id)")
    p.add_argument("--public-key", required=True, help="file with the partner's Ed25519 public key (PEM)")
    p.add_argument("--callback-uri", action="append", default=[], help="allowed callback URI (repeatable)")
    p.add_argument("--query-types", default="idtype-value,predicate,expression", help="comma-separated")
    p.add_argument("--wilayah", required=True, help="comma-separated wilayah codes, e.g. 13.71 or 13.71.01")
    p.add_argument("--fields", required=True, help="comma-separated record fields (see README, DCI)")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def partner_from(args: argparse.Namespace) -> PartnerIn | None:
    """The partner the options describe, or None (reason printed) when they are invalid."""
    try:
        # Validated from plain text: an unknown query type is the model's error to report, not the type checker's.
        partner = PartnerIn.model_validate(
            {
                "sender_id": args.sender_id,
                "name": args.name,
                "oauth_subject": args.oauth_subject,
                "public_key_pem": Path(args.public_key).read_text(encoding="utf-8"),
                "callback_uris": args.callback_uri,
                "query_types": _split(args.query_types),
                "wilayah": _split(args.wilayah),
                "fields": _split(args.fields),
            }
        )
    except (ValidationError, OSError) as exc:
        print(f"invalid partner: {exc}")
        return None
    return partner


async def save(runtime: ServiceRuntime, partner: PartnerIn) -> int:
    """Save the partner in the registry's database."""
    try:
        async with runtime.sessions() as session, session.begin():
            await register_partner(session, partner=partner, now=utcnow())
    finally:
        await runtime.engine.dispose()
    print(f"registered DCI partner {partner.sender_id}")
    return 0


def add_callback_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `tepat dci-callbacks`."""
    p.add_argument(
        "--status", default="dead", help="list callbacks in this state (queued, delivering, delivered, dead)"
    )
    p.add_argument("--sender-id", help="only this partner's callbacks")
    p.add_argument("--retry", type=int, action="append", help="queue this dead callback again (repeatable)")
    p.add_argument("--retry-all-dead", action="store_true", help="queue every dead callback again")


async def callbacks(runtime: ServiceRuntime, args: argparse.Namespace) -> int:
    """List callbacks in a state, or queue dead ones again."""
    try:
        async with runtime.sessions() as session, session.begin():
            if args.retry or args.retry_all_dead:
                ids = None if args.retry_all_dead else list(args.retry)
                print(f"queued again: {await retry_dead_callbacks(session, ids=ids, now=utcnow())}")
                return 0
            rows = await list_callbacks(session, status=args.status, sender_id=args.sender_id, limit=1000)
    finally:
        await runtime.engine.dispose()
    for row in rows:
        print(
            f"{row['id']}\t{row['status']}\t{row['sender_id']}\t{row['action']}\t{row['attempts']}\t"
            f"{row['uri']}\t{row['last_error'] or ''}"
        )
    return 0
