"""The shared state-machine helper: the table answers what may happen, illegal steps become 409 problems."""

from __future__ import annotations

import pytest

from shared.http.problems import ProblemError
from shared.statemachine import IllegalTransition, StateMachine, advance

DOOR = StateMachine(
    name="door",
    transitions={("closed", "open"): "open", ("open", "close"): "closed", ("closed", "lock"): "locked"},
    public=frozenset({"open", "close"}),
    final=frozenset({"locked"}),
)


def test_next_and_can_follow_the_table() -> None:
    assert DOOR.next("closed", "open") == "open"
    assert DOOR.can("open", "close")
    assert not DOOR.can("open", "lock")
    with pytest.raises(IllegalTransition) as info:
        DOOR.next("locked", "open")
    assert info.value.allowed == []


def test_sources_target_and_allowed() -> None:
    assert DOOR.sources("close") == {"open"}
    assert DOOR.sources("fly") == frozenset()
    assert DOOR.target("lock") == "locked"
    assert DOOR.allowed("closed") == ["open"]
    assert DOOR.allowed("closed", public_only=False) == ["lock", "open"]


def test_an_action_with_several_targets_has_no_single_target() -> None:
    machine = StateMachine(name="m", transitions={("a", "go"): "b", ("b", "go"): "c"}, public=frozenset({"go"}))
    with pytest.raises(ValueError, match="go leads to"):
        machine.target("go")


def test_advance_raises_the_409_problem_naming_the_allowed_actions() -> None:
    with pytest.raises(ProblemError) as info:
        advance(DOOR, "open", "open")
    assert info.value.status == 409
    assert "allowed: close" in str(info.value.detail)
