"""Every event type Tepat publishes, with its payload model: the source of the published JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from shared.events.envelope import EventEnvelope
from shared.events.household import (
    HouseholdEventType,
    HouseholdState,
    VerificationEventType,
    VerificationOutcome,
)
from shared.events.topics import REGISTRY_HOUSEHOLD, VERIFICATION_OUTCOME

# topic -> event type -> payload model. Other topics add themselves with `register`.
CATALOG: dict[str, dict[str, type[BaseModel]]] = {
    REGISTRY_HOUSEHOLD: {t.value: HouseholdState for t in HouseholdEventType},
    VERIFICATION_OUTCOME: {VerificationEventType.COMPLETED.value: VerificationOutcome},
}


def register(topic: str, event_type: str, model: type[BaseModel]) -> None:
    """Add an event type to the catalogue (done by the module that defines the payload)."""
    CATALOG.setdefault(topic, {})[event_type] = model


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema, for the envelope and each (topic, event type) payload."""
    # The payload modules register themselves on import; import them here so the catalogue is always whole.
    import shared.events.complaint
    import shared.events.objection
    import shared.events.payment
    import shared.events.programme
    import shared.events.recipient  # noqa: F401

    out: dict[str, dict[str, Any]] = {"envelope.schema.json": EventEnvelope.model_json_schema()}
    for topic, types in sorted(CATALOG.items()):
        for event_type, model in sorted(types.items()):
            schema = model.model_json_schema()
            schema["$id"] = f"https://tepat.padang.go.id/schemas/{topic}/{event_type}.json"
            schema["x-topic"] = topic
            schema["x-event-type"] = event_type
            out[f"{topic}/{event_type}.schema.json"] = schema
    return out


def export_json_schemas(folder: Path) -> list[Path]:
    """Write every schema under `folder`; returns the files written."""
    written = []
    for name, schema in json_schemas().items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written
