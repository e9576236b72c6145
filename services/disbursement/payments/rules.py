"""The payment line state machine (penyaluran, DOMAIN §4) as data and plain functions."""

from __future__ import annotations

from shared.events.payment import PaymentFailureReason
from shared.events.payment import PaymentLineStatusCode as S

# Not yet handed over: a line in one of these may still be held, cancelled or stopped.
UNPAID = frozenset({S.PLANNED, S.SPM, S.SP2D, S.AT_PAYER})
FINAL = frozenset({S.RETURNED, S.RECOVERED, S.CANCELLED})

TRANSITIONS: dict[S, frozenset[S]] = {
    S.PLANNED: frozenset({S.SPM, S.SP2D, S.AT_PAYER, S.PAID, S.FAILED, S.ON_HOLD}),
    S.SPM: frozenset({S.SP2D, S.AT_PAYER, S.PAID, S.FAILED, S.ON_HOLD}),
    S.SP2D: frozenset({S.AT_PAYER, S.PAID, S.FAILED, S.ON_HOLD}),
    S.AT_PAYER: frozenset({S.PAID, S.FAILED, S.ON_HOLD}),
    S.FAILED: frozenset({S.RETURNED}),
    S.PAID: frozenset({S.DISPUTED}),
    S.DISPUTED: frozenset({S.RECOVERED, S.PAID}),
    # Leaving on_hold is a decision (release to the held_from status, or cancel), never a payer report.
    S.ON_HOLD: frozenset({S.CANCELLED}),
    S.RETURNED: frozenset(),
    S.RECOVERED: frozenset(),
    S.CANCELLED: frozenset(),
}

# What payer reports may set, in the order a file's rows are applied (a file may carry at_payer, then paid).
IMPORTABLE: tuple[S, ...] = (S.SPM, S.SP2D, S.AT_PAYER, S.PAID, S.FAILED, S.RETURNED)

# Statuses an officer moves by hand (city programmes drive their own lines; disputes come from audits).
MANUAL = frozenset({S.SPM, S.SP2D, S.AT_PAYER, S.PAID, S.FAILED, S.RETURNED, S.DISPUTED, S.RECOVERED})


def can_move(current: S, target: S) -> bool:
    """Is current → target an allowed step?"""
    return target in TRANSITIONS[current]


def sources_of(target: S) -> frozenset[S]:
    """Every status from which `target` may be reached."""
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)


def failure_reason_required(target: S, reason: PaymentFailureReason | None) -> bool:
    """A failed line must say why (it feeds verification's ground checks); other statuses carry no reason."""
    return (target == S.FAILED) != (reason is not None)
