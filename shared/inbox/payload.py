"""An event's payload as its typed model, for consumers: the validation and its PermanentEventError written once."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from shared.events.envelope import EventEnvelope
from shared.inbox.consumer import PermanentEventError

Payload = TypeVar("Payload", bound=BaseModel)


def event_payload(
    model: type[Payload], envelope: EventEnvelope, *, what: str, subject_field: str | None = "household_id"
) -> Payload:
    """The envelope's data validated as `model`.

    A payload that does not fit, or whose `subject_field` names another record than the envelope's subject, can
    never succeed on a retry: PermanentEventError sends it to the dead letters at once. `what` names the payload
    in that error; `subject_field=None` skips the subject check."""
    try:
        payload = model.model_validate(envelope.data)
    except ValidationError as exc:
        raise PermanentEventError(f"invalid {what} payload: {exc.errors()[:3]}") from exc
    if subject_field is not None and getattr(payload, subject_field) != envelope.subject:
        raise PermanentEventError(f"payload {subject_field} differs from the event subject")
    return payload
