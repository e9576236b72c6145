"""Rules of proposals (usulan): the DOMAIN §4 state machine and the monthly cycle."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from services.verification.proposal_records import ProposalKind
from shared.auth.permissions import Permission
from shared.statemachine import StateMachine


class Channel(StrEnum):
    """Where a proposal came in."""

    KELURAHAN = "kelurahan"
    DINSOS_COUNTER = "dinsos_counter"
    CITIZEN_APP = "citizen_app"
    DIGITAL_AGENT = "digital_agent"


class ProposalAction(StrEnum):
    """Actions callers may ask for (the remaining steps are taken by the system)."""

    SUBMIT = "submit"
    DISCUSS = "discuss"
    MUSKEL_APPROVE = "muskel_approve"
    MUSKEL_REJECT = "muskel_reject"
    ENTER = "enter"
    START_REVIEW = "start_review"
    RETURN = "return"
    COMPLETE = "complete"


PROPOSAL_MACHINE = StateMachine(
    name="proposal",
    transitions={
        ("draft", "submit"): "submitted",
        ("draft", "submit_direct"): "complete",  # app / agent channels skip the muskel (config)
        ("returned", "submit"): "submitted",
        ("submitted", "discuss"): "muskel_discussed",
        ("muskel_discussed", "muskel_approve"): "muskel_approved",
        ("muskel_discussed", "muskel_reject"): "rejected",
        ("muskel_approved", "enter"): "entered",
        ("entered", "start_review"): "completeness_check",
        ("completeness_check", "return"): "returned",
        ("completeness_check", "complete"): "complete",
        ("complete", "schedule"): "ground_check_scheduled",
        ("ground_check_scheduled", "check_done"): "ground_check_done",
        ("ground_check_done", "declare_eligible"): "eligible",
        ("ground_check_done", "declare_not_eligible"): "not_eligible",
        ("eligible", "queue"): "awaiting_ratification",
        ("awaiting_ratification", "ratify"): "ratified",
        ("ratified", "send"): "sent",
    },
    public=frozenset(a.value for a in ProposalAction),
    final=frozenset({"rejected", "not_eligible", "sent"}),
)

ACTION_PERMISSION: dict[ProposalAction, Permission] = {
    ProposalAction.SUBMIT: Permission.PROPOSE,
    ProposalAction.DISCUSS: Permission.PROPOSE,
    ProposalAction.MUSKEL_APPROVE: Permission.PROPOSE,
    ProposalAction.MUSKEL_REJECT: Permission.PROPOSE,
    ProposalAction.ENTER: Permission.PROPOSE,
    ProposalAction.START_REVIEW: Permission.REVIEW_PROPOSAL,
    ProposalAction.RETURN: Permission.REVIEW_PROPOSAL,
    ProposalAction.COMPLETE: Permission.REVIEW_PROPOSAL,
}


def submit_action(state: str, channel: str, direct_channels: list[str]) -> str:
    """The transition a 'submit' request means: a direct-entry channel's first submission enters at complete."""
    return "submit_direct" if state == "draft" and channel in direct_channels else "submit"


def cycle_of(moment: datetime, cutoff_day: int) -> str:
    """The monthly cycle (YYYY-MM) of a submission: after the cut-off day it belongs to next month."""
    year, month = moment.year, moment.month
    if moment.day > cutoff_day:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}"


def member_problem(kind: str, member_id: str | None) -> str | None:
    """Why the proposal's member_id is wrong for its kind (a recipient change names one, no other kind does)."""
    if kind == ProposalKind.RECIPIENT_CHANGE and member_id is None:
        return "required for recipient_change"
    if kind != ProposalKind.RECIPIENT_CHANGE and member_id is not None:
        return "only a recipient_change names a member"
    return None


def needs_household(kind: str) -> bool:
    """Every kind except a new family concerns a family the read model must know."""
    return kind != ProposalKind.NEW_FAMILY
