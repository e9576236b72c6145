"""Rules of ratification batches (pengesahan)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from shared.statemachine import StateMachine

BATCH_MACHINE = StateMachine(
    name="ratification batch",
    transitions={
        ("draft", "submit"): "submitted",
        ("submitted", "ratify"): "ratified",
        ("ratified", "send"): "sent",
    },
    public=frozenset({"submit", "ratify", "send"}),
    final=frozenset({"sent"}),
)
REQUIRED_ATTACHMENTS = ("minutes", "list")


def missing_attachments(attached_roles: Iterable[str]) -> list[str]:
    """The documents a batch still lacks before anything may be exported."""
    have = set(attached_roles)
    return [r for r in REQUIRED_ATTACHMENTS if r not in have]


def may_ratify(prepared_by: str, ratifier: str) -> bool:
    """Who prepares a batch does not sign it."""
    return prepared_by != ratifier


LIST_HASH_COLUMNS = ("id", "household_id", "kecamatan_code", "kelurahan_code", "kind", "channel", "ground_check_id")


def list_hash(rows: Iterable[Mapping[str, object]]) -> str:
    """SHA-256 of a batch's list of usulan: one line per usulan in id order, its columns joined by ';' (empty for
    none), each line ending in a newline. Anyone holding the same list computes the same hash."""
    digest = hashlib.sha256()
    for row in sorted(rows, key=lambda r: int(str(r["id"]))):
        values = ("" if row.get(c) is None else str(row[c]) for c in LIST_HASH_COLUMNS)
        digest.update((";".join(values) + "\n").encode("utf-8"))
    return digest.hexdigest()
