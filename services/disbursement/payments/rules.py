"""The payment line state machine (penyaluran, DOMAIN §4) as data and plain functions."""

from __future__ import annotations

from shared.events.payment import PaymentFailureReason
from shared.events.payment import PaymentLineStatusCode as S
from shared.statemachine import StateMachine

# Not yet handed over: a line in one of these may still be held, cancelled or stopped.
UNPAID = frozenset({S.PLANNED, S.SPM, S.SP2D, S.AT_PAYER})
FINAL = frozenset({S.RETURNED, S.RECOVERED, S.CANCELLED})

_STEPS: dict[S, frozenset[S]] = {
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

# A line's status is both the state and the action: "move to paid" is the step to paid.
PAYMENT_LINE_MACHINE = StateMachine(
    name="payment line",
    transitions={(source, target): target for source, targets in _STEPS.items() for target in targets},
    public=frozenset(_STEPS),
    final=frozenset(s for s, targets in _STEPS.items() if not targets),
)

# What payer reports may set, in the order a file's rows are applied (a file may carry at_payer, then paid).
IMPORTABLE: tuple[S, ...] = (S.SPM, S.SP2D, S.AT_PAYER, S.PAID, S.FAILED, S.RETURNED)

# Statuses an officer moves by hand (city programmes drive their own lines; disputes come from audits).
MANUAL = frozenset({S.SPM, S.SP2D, S.AT_PAYER, S.PAID, S.FAILED, S.RETURNED, S.DISPUTED, S.RECOVERED})


def can_move(current: S, target: S) -> bool:
    """Is current → target an allowed step?"""
    return PAYMENT_LINE_MACHINE.can(current, target)


def sources_of(target: S) -> frozenset[S]:
    """Every status from which `target` may be reached."""
    return frozenset(S(s) for s in PAYMENT_LINE_MACHINE.sources(target))


def failure_reason_required(target: S, reason: PaymentFailureReason | None) -> bool:
    """A failed line must say why (it feeds verification's ground checks); other statuses carry no reason."""
    return (target == S.FAILED) != (reason is not None)
