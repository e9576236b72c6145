"""JSON log lines carrying the request and correlation ids of the work in progress."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from shared.context import correlation_id_var, request_id_var


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, exception type."""

    def format(self, record: logging.LogRecord) -> str:
        """Render a record as JSON."""
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
            "correlation_id": correlation_id_var.get() or request_id_var.get(),
        }
        access = getattr(record, "access", None)
        if isinstance(access, dict):
            entry.update(access)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class _IdsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


def configure_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    """Install the root handler once (idempotent, so several apps in one process can call it)."""
    root = logging.getLogger()
    if any(getattr(h, "_tepat", False) for h in root.handlers):
        root.setLevel(level.upper())
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._tepat = True  # type: ignore[attr-defined]
    handler.addFilter(_IdsFilter())
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "httpx", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
