"""Rules of ratification batches (pengesahan)."""

from __future__ import annotations

from collections.abc import Iterable

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
