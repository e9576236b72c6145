"""State machines as data: (state, action) → next state, with the 409 problem for an illegal transition.

The one encoding of every workflow (usulan, sanggah, ground checks, ratification batches, tahap, payment lines)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.http.problems import ProblemError


class IllegalTransition(Exception):
    """An action the current state does not allow."""

    def __init__(self, machine: str, state: str, action: str, allowed: list[str]) -> None:
        super().__init__(f"{machine}: cannot {action} from {state}")
        self.machine = machine
        self.state = state
        self.action = action
        self.allowed = allowed


@dataclass(frozen=True)
class StateMachine:
    """A transition table; `public` lists the actions callers may ask for (the rest are system steps)."""

    name: str
    transitions: Mapping[tuple[str, str], str]
    public: frozenset[str]
    final: frozenset[str] = frozenset()

    def allowed(self, state: str, *, public_only: bool = True) -> list[str]:
        """Actions allowed from `state`, sorted."""
        return sorted(a for (s, a) in self.transitions if s == state and (a in self.public or not public_only))

    def next(self, state: str, action: str) -> str:
        """The state after `action`, or IllegalTransition."""
        target = self.transitions.get((state, action))
        if target is None:
            raise IllegalTransition(self.name, state, action, self.allowed(state))
        return target

    def can(self, state: str, action: str) -> bool:
        """Does the table allow `action` from `state`?"""
        return (state, action) in self.transitions

    def sources(self, action: str) -> frozenset[str]:
        """Every state from which `action` may run."""
        return frozenset(s for (s, a) in self.transitions if a == action)

    def target(self, action: str) -> str:
        """The one state `action` leads to from wherever it runs; ValueError if it leads to several."""
        targets = {t for (_, a), t in self.transitions.items() if a == action}
        if len(targets) != 1:
            raise ValueError(f"{self.name}: {action} leads to {sorted(targets)}")
        return targets.pop()

    def states(self) -> set[str]:
        """Every state named in the table."""
        return {s for s, _ in self.transitions} | set(self.transitions.values())


def conflict(exc: IllegalTransition) -> ProblemError:
    """The 409 problem naming the current state and the actions it allows."""
    allowed = ", ".join(exc.allowed) or "none (final state)"
    return ProblemError(
        409,
        f"Cannot '{exc.action}' a {exc.machine} in state '{exc.state}'; allowed: {allowed}.",
        code="illegal_transition",
        current_state=exc.state,
        allowed_actions=exc.allowed,
    )


def advance(machine: StateMachine, state: str, action: str) -> str:
    """`machine.next`, raising the 409 problem instead of IllegalTransition."""
    try:
        return machine.next(state, action)
    except IllegalTransition as exc:
        raise conflict(exc) from exc
