"""Plain rules about data-quality flags: the kinds, which the registry computes itself, when one is raised."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from shared.events.vocabulary import FlagKind

__all__ = ["FlagKind"]  # defined once in the shared event vocabulary; re-exported for the registry's code


class ExcludedOccupation(StrEnum):
    """Sub-kinds of excluded_occupation (any family member)."""

    PNS = "pns"
    TNI = "tni"
    POLRI = "polri"
    PEJABAT = "pejabat"
    BUMN_BUMD = "bumn_bumd"


class FlagStatus(StrEnum):
    """Lifecycle of a flag: open until a person confirms or refutes it; cleared when the data no longer shows it."""

    OPEN = "open"
    CONFIRMED = "confirmed"
    REFUTED = "refuted"
    CLEARED = "cleared"


SYSTEM_SOURCE = "system"

# Kinds the registry computes from its own data on every write; the others come from external lists.
COMPUTED_KINDS: frozenset[str] = frozenset(
    {
        FlagKind.INVALID_NIK,
        FlagKind.SEX_NIK_MISMATCH,
        FlagKind.DUPLICATE_NIK,
        FlagKind.DUPLICATE_KK,
        FlagKind.RECIPIENT_DECEASED,
    }
)

# A confirmed flag of these kinds makes the family inactive with this reason (DOMAIN §4). A confirmed
# Dukcapil death marks the member deceased instead; the family follows once no living member is left.
DEACTIVATING_KINDS: dict[str, str] = {
    FlagKind.EXCLUDED_OCCUPATION: "excluded",
    FlagKind.DUPLICATE_KK: "duplicate",
    FlagKind.INCOME_ABOVE_UMR: "well_off",
}

# Open flags of these kinds leave the family's status alone: a dead recipient is a payment hold until a new one
# is named (issue 12 item 4), not a doubt about the family's eligibility.
STATUS_NEUTRAL_KINDS: frozenset[str] = frozenset({FlagKind.RECIPIENT_DECEASED})

# Once a person has decided a (family, member, kind), the system does not raise it again while the
# condition persists; a cleared flag (condition went away) does not block a new one.
BLOCKING_STATUSES: frozenset[str] = frozenset({FlagStatus.OPEN, FlagStatus.CONFIRMED, FlagStatus.REFUTED})


def should_raise(existing_statuses: Iterable[str]) -> bool:
    """Raise a computed flag only if no open or decided flag of the same (family, member, kind) exists."""
    return not any(status in BLOCKING_STATUSES for status in existing_statuses)


def can_resolve(status: str) -> bool:
    """Only an open flag can be confirmed or refuted."""
    return status == FlagStatus.OPEN
