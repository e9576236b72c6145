"""event_payload: a consumer's typed payload, or a PermanentEventError that sends the event to the dead letters."""

from __future__ import annotations

from uuid import uuid4

import pytest
from pydantic import BaseModel

from shared.events.envelope import EventEnvelope, utcnow
from shared.inbox.consumer import PermanentEventError
from shared.inbox.payload import event_payload


class Moved(BaseModel):
    household_id: str
    to: str


def _envelope(subject: str, data: dict[str, object]) -> EventEnvelope:
    now = utcnow()
    return EventEnvelope(
        event_id=uuid4(),
        event_type="moved",
        source="unit",
        subject=subject,
        aggregate_version=1,
        occurred_at=now,
        recorded_at=now,
        data=data,
    )


def test_a_payload_that_fits_comes_back_typed() -> None:
    moved = event_payload(Moved, _envelope("hh-1", {"household_id": "hh-1", "to": "13.71.01"}), what="move")
    assert moved == Moved(household_id="hh-1", to="13.71.01")


def test_a_payload_that_does_not_fit_is_permanent() -> None:
    with pytest.raises(PermanentEventError, match="invalid move payload"):
        event_payload(Moved, _envelope("hh-1", {"household_id": "hh-1"}), what="move")


def test_a_payload_about_another_subject_is_permanent_unless_unchecked() -> None:
    envelope = _envelope("hh-2", {"household_id": "hh-1", "to": "13.71.01"})
    with pytest.raises(PermanentEventError, match="household_id differs from the event subject"):
        event_payload(Moved, envelope, what="move")
    assert event_payload(Moved, envelope, what="move", subject_field=None).household_id == "hh-1"
