"""The event envelope of ARCHITECTURE §5: CloudEvents-style JSON around a PII-free payload."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class EventEnvelope(BaseModel):
    """One event as it travels on a topic."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: UUID = Field(default_factory=uuid4)
    event_type: str = Field(min_length=1, max_length=100, description="e.g. household.registered")
    schema_version: int = Field(default=1, ge=1)
    source: str = Field(min_length=1, max_length=50, description="The service that emitted the event.")
    subject: str = Field(min_length=1, max_length=100, description="The aggregate id, e.g. a household id.")
    aggregate_version: int = Field(ge=0, description="Version of the aggregate after the change.")
    occurred_at: datetime
    recorded_at: datetime
    correlation_id: str | None = Field(default=None, max_length=100)
    causation_id: UUID | None = None
    data: dict[str, Any] = Field(default_factory=dict, description="PII-free payload of the event type.")

    def to_bytes(self) -> bytes:
        """Serialise to the JSON bytes sent on the wire."""
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> EventEnvelope:
        """Parse wire bytes; raises pydantic.ValidationError or ValueError on bad input."""
        return cls.model_validate_json(raw)


def envelope_json_from_row(row: Any, source: str) -> bytes:
    """Build wire bytes from an outbox row without re-validating the stored payload."""
    head = {
        "event_id": row.event_id,
        "event_type": row.event_type,
        "schema_version": row.schema_version,
        "source": source,
        "subject": row.subject,
        "aggregate_version": row.aggregate_version,
        "occurred_at": _iso(row.occurred_at),
        "recorded_at": _iso(row.recorded_at),
        "correlation_id": row.correlation_id,
        "causation_id": row.causation_id,
    }
    # data is stored as JSON text already; splice it in instead of parsing and dumping it again.
    data: str = row.data
    return (json.dumps(head, separators=(",", ":"))[:-1] + ',"data":' + data + "}").encode()


def _iso(value: datetime | str) -> str:
    if isinstance(value, str):  # SQLite hands back text
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()
