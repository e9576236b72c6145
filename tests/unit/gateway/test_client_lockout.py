"""The client-id lockout of /oauth/token on a clock the test moves: no sleeps."""

from __future__ import annotations

from services.gateway.oauth import ClientLockout


class Clock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_locks_after_failures_in_a_row_and_lifts_after_the_period() -> None:
    clock = Clock()
    lockout = ClientLockout(max_failures=3, lock_s=60, clock=clock)
    for _ in range(2):
        lockout.failed("bank-bri")
    assert lockout.locked_for("bank-bri") == 0
    lockout.failed("bank-bri")
    assert lockout.locked_for("bank-bri") == 60
    assert lockout.locked_for("bank-bni") == 0
    clock.now = 59.5
    assert lockout.locked_for("bank-bri") == 0.5
    clock.now = 60
    assert lockout.locked_for("bank-bri") == 0
    # After the lock the count starts again from zero.
    lockout.failed("bank-bri")
    assert lockout.locked_for("bank-bri") == 0


def test_old_failures_and_a_success_clear_the_count() -> None:
    clock = Clock()
    lockout = ClientLockout(max_failures=3, lock_s=60, clock=clock)
    lockout.failed("a")
    lockout.failed("a")
    clock.now = 61  # the first two are older than the period
    lockout.failed("a")
    assert lockout.locked_for("a") == 0
    lockout.failed("a")
    lockout.succeeded("a")
    lockout.failed("a")
    lockout.failed("a")
    assert lockout.locked_for("a") == 0
    lockout.failed("a")
    assert lockout.locked_for("a") == 60


def test_bounded_memory_forgets_the_oldest_ids() -> None:
    lockout = ClientLockout(max_failures=1, lock_s=60, clock=Clock(), max_ids=2)
    for client_id in ("first", "x" * 1_000_000, "third"):
        lockout.failed(client_id)
    assert lockout.locked_for("first") == 0
    assert lockout.locked_for("x" * 1_000_000) == 60
    assert lockout.locked_for("third") == 60
