"""Liveness of a process's background tasks (relay, consumer, scheduler), for its health endpoint and metrics."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shared.observability.metrics import WORKER_FAILURES, WORKER_RESTARTS, WORKER_UP


@dataclass
class TaskHealth:
    """What one background task last reported: running or retrying, since when, why."""

    service: str
    task: str
    state: str = "starting"  # starting | running | retrying | restarting | stopped
    since: float = field(default_factory=time.time)
    last_ok_at: float | None = None
    failures: int = 0  # consecutive failed attempts (reset by a success)
    restarts: int = 0
    last_error: str | None = None

    def ok(self) -> None:
        """The task got through one round of its work."""
        if self.state != "running":
            self.state, self.since = "running", time.time()
        self.failures = 0
        self.last_ok_at = time.time()
        WORKER_UP.labels(self.service, self.task).set(1)

    def failed(self, exc: BaseException) -> None:
        """The task hit a passing failure and will try again."""
        if self.state != "retrying":
            self.state, self.since = "retrying", time.time()
        self.failures += 1
        self.last_error = f"{type(exc).__name__}: {exc}"[:500]
        WORKER_FAILURES.labels(self.service, self.task).inc()
        WORKER_UP.labels(self.service, self.task).set(0)

    def restarted(self, error: str) -> None:
        """The task ended unexpectedly and is being started again."""
        self.state, self.since = "restarting", time.time()
        self.restarts += 1
        self.last_error = error[:500]
        WORKER_RESTARTS.labels(self.service, self.task).inc()
        WORKER_UP.labels(self.service, self.task).set(0)

    def stopped(self) -> None:
        """The task ended because it was asked to."""
        self.state, self.since = "stopped", time.time()
        WORKER_UP.labels(self.service, self.task).set(0)

    @property
    def alive(self) -> bool:
        """Running, or retrying a passing failure (a task that retries is alive, just not making progress)."""
        return self.state in {"starting", "running", "retrying"}

    def as_dict(self) -> dict[str, object]:
        """JSON view for the health endpoint."""
        return {
            "state": self.state,
            "alive": self.alive,
            "since": _iso(self.since),
            "last_ok_at": _iso(self.last_ok_at),
            "failures": self.failures,
            "restarts": self.restarts,
            "last_error": self.last_error,
        }


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts is not None else None
