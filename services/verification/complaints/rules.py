"""Rules of complaints (pengaduan): categories, channels, the state machine, the SLA and what each category may start.

Plain functions and tables, no I/O (DOMAIN §4 for the usulan and sanggah these link to)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum

from shared.events.complaint import ComplaintCategory
from shared.statemachine import StateMachine


class ComplaintChannel(StrEnum):
    """Where the complaint came in."""

    COUNTER = "counter"
    CALL_CENTRE = "call_centre"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    LAPOR = "lapor"  # a case forwarded from LAPOR! (SP4N)
    KELURAHAN = "kelurahan"
    FIELD_APP = "field_app"


class ComplaintAction(StrEnum):
    """What handling a complaint may start, through the mechanisms that already exist."""

    GROUND_CHECK = "ground_check"  # a ground check of the family (reason 'complaint')
    DATA_CORRECTION = "data_correction"  # a data_correction usulan for the family
    RECONCILIATION_BREAK = "reconciliation_break"  # asked of disbursement (event), by payment line id
    PAYER_INQUIRY = "payer_inquiry"  # asked of disbursement (event), by payment line id


class CloseReason(StrEnum):
    """Why a complaint was closed (resolved, rejected or referred)."""

    CORRECTED = "corrected"  # the data or the list was corrected
    CONFIRMED_CORRECT = "confirmed_correct"  # checked: nothing was wrong
    PAID = "paid"  # the payment arrived / was re-sent
    NOT_ELIGIBLE = "not_eligible"
    DUPLICATE = "duplicate"
    UNFOUNDED = "unfounded"
    INSUFFICIENT_INFORMATION = "insufficient_information"
    OUT_OF_MANDATE = "out_of_mandate"  # referred: another agency's matter (Kemensos, bank, inspectorate)
    OTHER = "other"


COMPLAINT_MACHINE = StateMachine(
    name="complaint",
    transitions={
        ("received", "assign"): "in_progress",
        ("in_progress", "assign"): "in_progress",  # re-assignment
        ("received", "act"): "in_progress",  # starting an action is working on it
        ("in_progress", "act"): "in_progress",
        ("in_progress", "resolve"): "resolved",
        ("in_progress", "reject"): "rejected",
        ("received", "reject"): "rejected",  # e.g. a duplicate, without work
        ("in_progress", "refer"): "referred",
        ("received", "refer"): "referred",
    },
    public=frozenset({"assign", "act", "resolve", "reject", "refer"}),
    final=frozenset({"resolved", "rejected", "referred"}),
)
OPEN_STATES = ("received", "in_progress")

# Which actions each category may start (the payment ones need the payment line; the others the family).
CATEGORY_ACTIONS: Mapping[ComplaintCategory, frozenset[ComplaintAction]] = {
    ComplaintCategory.EXCLUSION: frozenset({ComplaintAction.GROUND_CHECK, ComplaintAction.DATA_CORRECTION}),
    ComplaintCategory.INCLUSION: frozenset({ComplaintAction.GROUND_CHECK}),
    ComplaintCategory.PAYMENT: frozenset(
        {ComplaintAction.RECONCILIATION_BREAK, ComplaintAction.PAYER_INQUIRY, ComplaintAction.GROUND_CHECK}
    ),
    ComplaintCategory.DATA_ERROR: frozenset({ComplaintAction.DATA_CORRECTION, ComplaintAction.GROUND_CHECK}),
    ComplaintCategory.OFFICER_CONDUCT: frozenset(),
    ComplaintCategory.OTHER: frozenset(),
}
PAYMENT_ACTIONS = frozenset({ComplaintAction.RECONCILIATION_BREAK, ComplaintAction.PAYER_INQUIRY})

# Crockford base32 without I, L, O, U: read out over the phone without confusion.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference(received_at: datetime) -> str:
    """The number the complainant is given: ADU-YYMM-XXXXXXX (random part: not guessable, not a count)."""
    tail = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(7))
    return f"ADU-{received_at:%y%m}-{tail}"


def due_date(received_at: datetime, category: str, sla_days: Mapping[str, int]) -> datetime:
    """When the complaint must be closed: received + the category's SLA (days, from the settings)."""
    return received_at + timedelta(days=sla_days[category])


def sla_status(status: str, due_at: datetime, now: datetime, *, due_soon: timedelta = timedelta(days=2)) -> str:
    """'closed', 'overdue', 'due_soon' (within two days) or 'on_time'."""
    if status not in OPEN_STATES:
        return "closed"
    if due_at < now:
        return "overdue"
    return "due_soon" if due_at - now <= due_soon else "on_time"


def action_refusal(
    category: str, action: ComplaintAction, *, household_id: str | None, payment_line_id: int | None
) -> str | None:
    """Why this complaint cannot start this action (None when it can)."""
    if action not in CATEGORY_ACTIONS[ComplaintCategory(category)]:
        return f"a complaint of category {category} cannot start a {action.value}"
    if action in PAYMENT_ACTIONS and payment_line_id is None:
        return f"a {action.value} needs the complaint's payment_line_id"
    if action not in PAYMENT_ACTIONS and household_id is None:
        return f"a {action.value} needs the complaint's household_id"
    return None


def lacks_payment_reference(category: str, payment_line_id: int | None, tahap_code: str | None) -> bool:
    """A payment complaint names the payment line, or at least the tahap, so it can be traced."""
    return category == ComplaintCategory.PAYMENT and payment_line_id is None and tahap_code is None


def notifiable(anonymous: bool, contact_phone: str | None) -> bool:
    """Status messages go only to a named complainant who left a number."""
    return not anonymous and contact_phone is not None


def mask_phone(phone: str | None) -> str | None:
    """+6281234567890 → ********7890 (enough to confirm with the caller, not to call them)."""
    if phone is None:
        return None
    digits = phone.strip()
    return "*" * max(len(digits) - 4, 0) + digits[-4:] if len(digits) > 4 else "*" * len(digits)
