"""The tahap (payment round) state machine as data."""

from __future__ import annotations

from enum import StrEnum

from shared.statemachine import StateMachine


class TahapStatus(StrEnum):
    """States of a tahap (DOMAIN §4)."""

    DRAFT = "draft"
    LIST_GENERATED = "list_generated"
    APPROVED = "approved"
    PAYING = "paying"
    CLOSED = "closed"
    CANCELLED = "cancelled"


T = TahapStatus

# generate may run again (a new list generation); start_paying runs on every line moved, close also from approved.
TAHAP_MACHINE = StateMachine(
    name="tahap",
    transitions={
        (T.DRAFT, "generate"): T.LIST_GENERATED,
        (T.LIST_GENERATED, "generate"): T.LIST_GENERATED,
        (T.LIST_GENERATED, "approve"): T.APPROVED,
        (T.APPROVED, "start_paying"): T.PAYING,
        (T.PAYING, "start_paying"): T.PAYING,
        (T.PAYING, "close"): T.CLOSED,
        (T.APPROVED, "close"): T.CLOSED,
        (T.DRAFT, "cancel"): T.CANCELLED,
        (T.LIST_GENERATED, "cancel"): T.CANCELLED,
    },
    public=frozenset({"generate", "approve", "close", "cancel"}),
    final=frozenset({T.CLOSED, T.CANCELLED}),
)

# A list exists and is frozen: family changes from now on hold lines instead of changing the list.
FROZEN = frozenset({T.LIST_GENERATED.value, T.APPROVED.value, T.PAYING.value})
# Tahap whose list counts as "what was paid" for the tahap-over-tahap comparison.
COMMITTED = frozenset({T.APPROVED.value, T.PAYING.value, T.CLOSED.value})


def allowed_from(action: str) -> frozenset[TahapStatus]:
    """The statuses from which `action` may run."""
    return frozenset(TahapStatus(s) for s in TAHAP_MACHINE.sources(action))


def target_of(action: str) -> TahapStatus:
    """The status `action` leads to."""
    return TahapStatus(TAHAP_MACHINE.target(action))
