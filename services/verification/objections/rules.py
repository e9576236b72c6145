"""Rules of objections (sanggah): the state machine, residency and the due date."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from shared.statemachine import StateMachine


class ObjectionGrounds(StrEnum):
    """Why a resident says the family is not eligible."""

    DECEASED = "deceased"
    MOVED = "moved"
    NOT_FOUND = "not_found"
    DUPLICATE = "duplicate"
    WELL_OFF = "well_off"
    EXCLUDED_OCCUPATION = "excluded_occupation"
    OTHER = "other"


OBJECTION_MACHINE = StateMachine(
    name="objection",
    transitions={
        ("received", "start_verification"): "under_verification",
        ("received", "lapse"): "lapsed",
        ("under_verification", "uphold"): "upheld",
        ("under_verification", "reject"): "rejected",
        ("under_verification", "lapse"): "lapsed",
    },
    public=frozenset({"uphold", "reject"}),
    final=frozenset({"upheld", "rejected", "lapsed"}),
)
PENDING_STATES = ("received", "under_verification")


def is_resident(objector_kelurahan: str, family_kelurahan: str) -> bool:
    """Only a resident of the family's own kelurahan may object."""
    return objector_kelurahan == family_kelurahan


def due_date(received_at: datetime, days: int) -> datetime:
    """When Dinsos must have decided: received + `days`."""
    return received_at + timedelta(days=days)
