"""Where a running import is: its phase (reading, checking, …, events), rows read, and each finished phase's time.

Kept in the job's process (`LIVE`, read by the job API while the job runs: on SQLite its transaction holds the
write lock, so nothing could be written elsewhere) and stored in `import_job.progress` when the job ends."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

EXTRACT_PHASES = ("reading", "checking", "families", "classifying", "writing", "desil", "flags", "status", "events")
LIST_PHASES = ("reading", "matching")


class ImportProgress:
    """Phase changes and rows read of one job; `listener` (the CLI's printer) hears every change."""

    def __init__(self, phases: tuple[str, ...], listener: Callable[[ImportProgress], None] | None = None) -> None:
        self.phases = phases
        self.listener = listener
        self.current: str | None = None
        self.rows = 0
        self.done: list[dict[str, Any]] = []
        self._started = time.monotonic()

    @property
    def step(self) -> int:
        """1-based position of the current phase."""
        return self.phases.index(self.current) + 1 if self.current in self.phases else 0

    def phase(self, name: str) -> None:
        """Start a phase (closing the previous one)."""
        self._close()
        self.current = name
        self._started = time.monotonic()
        self._notify()

    def read(self, rows: int) -> None:
        """Rows read so far."""
        self.rows = rows
        self._notify()

    def finish(self) -> dict[str, Any]:
        """Close the last phase; what the job row keeps."""
        self._close()
        self.current = None
        return self.snapshot()

    def snapshot(self) -> dict[str, Any]:
        """The current phase, its position, rows read and the finished phases (name, seconds)."""
        return {
            "phase": self.current,
            "step": self.step,
            "steps": len(self.phases),
            "rows_read": self.rows,
            "phases": list(self.done),
        }

    def _close(self) -> None:
        if self.current is not None:
            self.done.append({"phase": self.current, "seconds": round(time.monotonic() - self._started, 3)})

    def _notify(self) -> None:
        if self.listener is not None:
            self.listener(self)


# Jobs running in this process, by id.
LIVE: dict[str, ImportProgress] = {}
