"""The tahap (payment round) state machine as data."""

from __future__ import annotations

from enum import StrEnum


class TahapStatus(StrEnum):
    """States of a tahap (DOMAIN §4)."""

    DRAFT = "draft"
    LIST_GENERATED = "list_generated"
    APPROVED = "approved"
    PAYING = "paying"
    CLOSED = "closed"
    CANCELLED = "cancelled"


T = TahapStatus

# action → statuses it may start from, and the status it leads to
ACTIONS: dict[str, tuple[frozenset[TahapStatus], TahapStatus]] = {
    "generate": (frozenset({T.DRAFT, T.LIST_GENERATED}), T.LIST_GENERATED),
    "approve": (frozenset({T.LIST_GENERATED}), T.APPROVED),
    "start_paying": (frozenset({T.APPROVED, T.PAYING}), T.PAYING),
    "close": (frozenset({T.PAYING, T.APPROVED}), T.CLOSED),
    "cancel": (frozenset({T.DRAFT, T.LIST_GENERATED}), T.CANCELLED),
}

# A list exists and is frozen: family changes from now on hold lines instead of changing the list.
FROZEN = frozenset({T.LIST_GENERATED.value, T.APPROVED.value, T.PAYING.value})
# Tahap whose list counts as "what was paid" for the tahap-over-tahap comparison.
COMMITTED = frozenset({T.APPROVED.value, T.PAYING.value, T.CLOSED.value})


def allowed_from(action: str) -> frozenset[TahapStatus]:
    """The statuses from which `action` may run."""
    return ACTIONS[action][0]


def target_of(action: str) -> TahapStatus:
    """The status `action` leads to."""
    return ACTIONS[action][1]
