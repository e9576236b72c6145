"""The envelope built by the relay from an outbox row is exactly what consumers parse."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from uuid import uuid4

import pytest
from pydantic import ValidationError

from shared.events.envelope import EventEnvelope, envelope_json_from_row
from shared.events.household import HouseholdState
from shared.events.topics import ALL_TOPICS, dlq_name


def test_outbox_row_round_trip() -> None:
    event_id, cause = uuid4(), uuid4()
    row = SimpleNamespace(
        event_id=str(event_id),
        event_type="household.registered",
        schema_version=1,
        subject="hh-1",
        aggregate_version=4,
        occurred_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        recorded_at=datetime(2026, 1, 2, 3, 4, 5),  # SQLite gives naive datetimes back
        correlation_id="req-1",
        causation_id=str(cause),
        data=json.dumps({"desil": 3}),
    )
    env = EventEnvelope.from_bytes(envelope_json_from_row(row, "registry"))
    assert env.event_id == event_id
    assert env.causation_id == cause
    assert (env.source, env.subject, env.aggregate_version, env.data) == ("registry", "hh-1", 4, {"desil": 3})
    assert env.recorded_at.tzinfo is not None


def test_garbage_is_refused() -> None:
    with pytest.raises(ValidationError):
        EventEnvelope.from_bytes(b'{"event_type": "x"}')
    with pytest.raises(ValidationError):
        EventEnvelope.from_bytes(b"not json")


def _property_names(node: object) -> set[str]:
    """Every field name anywhere in a JSON Schema (not the enum values: flag kinds may say `nik_not_matched`)."""
    if isinstance(node, list):
        return set().union(*(_property_names(n) for n in node))
    if not isinstance(node, dict):
        return set()
    names = set(node.get("properties", {}))
    return names.union(*(_property_names(v) for v in node.values()))


def test_household_state_schema_is_pii_free() -> None:
    names = _property_names(HouseholdState.model_json_schema())
    assert "open_flags" in names
    for pii in ("nik", "name", "nama", "address", "alamat", "birth"):
        assert not [n for n in names if n.lower().startswith(pii)], pii


def test_every_topic_has_a_dlq() -> None:
    names = {t.name for t in ALL_TOPICS}
    for t in ALL_TOPICS:
        if not t.name.endswith(".dlq"):
            assert dlq_name(t.name) in names


def test_published_json_schemas_match_the_models() -> None:
    # The committed schemas are what other systems read; they must not drift from the code (`make schemas`).
    from pathlib import Path

    from shared.events.catalog import json_schemas

    folder = Path(__file__).resolve().parents[3] / "shared" / "events" / "schemas"
    for name, schema in json_schemas().items():
        committed = json.loads((folder / name).read_text())
        assert committed == json.loads(json.dumps(schema)), f"{name} is stale: run `make schemas`"
