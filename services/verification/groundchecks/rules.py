"""Rules of ground checks: the state machine, triggers, four-eyes and the evidence hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence, Set
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from services.verification.households.rules import ProgrammeBand
from shared.auth.principal import Role, code_within
from shared.statemachine import StateMachine


class CheckReason(StrEnum):
    """Why a ground check exists (one open check per family and reason)."""

    PROPOSAL = "proposal"
    OBJECTION = "objection"
    FLAG_DECEASED_DUKCAPIL = "flag_deceased_dukcapil"
    FLAG_DUPLICATE_NIK = "flag_duplicate_nik"
    FLAG_EXCLUDED_OCCUPATION = "flag_excluded_occupation"
    FLAG_DEATH_RECORD_CONFLICT = "flag_death_record_conflict"
    FLAG_MEMBER_NEEDS_CORRECTION = "flag_member_needs_correction"
    DESIL_CROSSING = "desil_crossing"
    PAYMENT_FAILED = "payment_failed"
    REVALIDATION = "revalidation"
    COMPLAINT = "complaint"  # a pengaduan asked for it (services/verification/complaints)


class Outcome(StrEnum):
    """Result of a visit."""

    LAYAK = "layak"
    TIDAK_LAYAK = "tidak_layak"


class NotEligibleReason(StrEnum):
    """Reason codes of a 'tidak layak' outcome (DOMAIN §4)."""

    DECEASED = "deceased"
    MOVED = "moved"
    NOT_FOUND = "not_found"
    DUPLICATE = "duplicate"
    WELL_OFF = "well_off"
    EXCLUDED_OCCUPATION = "excluded_occupation"
    REFUSED = "refused"


GROUND_CHECK_MACHINE = StateMachine(
    name="ground check",
    transitions={
        ("open", "assign"): "assigned",
        ("assigned", "assign"): "assigned",  # re-assignment
        ("assigned", "submit_visit"): "visited",
        ("visited", "approve"): "approved",
        ("visited", "return"): "assigned",  # returned for rework goes back to the assignee
        ("open", "cancel"): "cancelled",
        ("assigned", "cancel"): "cancelled",
    },
    public=frozenset({"assign", "submit_visit", "approve", "return", "cancel"}),
    final=frozenset({"approved", "cancelled"}),
)

FIELD_ROLES = frozenset({Role.TKSK, Role.PSM, Role.PENDAMPING_PKH})
PAYMENT_FAILURES_TO_CHECK = frozenset({"not_found", "deceased_without_heir"})


def flag_reason(kind: str) -> CheckReason:
    """The check reason of a flag kind (flag_<kind>)."""
    return CheckReason(f"flag_{kind}")


def new_flags(previous: Iterable[str], current: Iterable[str], watched: Iterable[str]) -> list[str]:
    """Watched flag kinds open now that were not open before, sorted."""
    return sorted((set(current) - set(previous)) & set(watched))


def desil_crossings(previous: int | None, current: int | None, thresholds: Iterable[int]) -> list[int]:
    """Thresholds t the desil crossed (≤ t to > t, or back); nothing when either side is unknown."""
    if previous is None or current is None:
        return []
    return sorted(t for t in set(thresholds) if (previous <= t) != (current <= t))


def current_bands(bands: Iterable[ProgrammeBand], today: date) -> dict[str, ProgrammeBand]:
    """Per programme, the newest version in force today (disbursement's `effective_rule`)."""
    out: dict[str, ProgrammeBand] = {}
    for b in bands:
        if b.effective_from > today or (b.effective_to is not None and b.effective_to <= today):
            continue
        if b.programme_code not in out or out[b.programme_code].version < b.version:
            out[b.programme_code] = b
    return out


def desil_thresholds(bands: Iterable[ProgrammeBand], today: date, fallback: Sequence[int]) -> list[int]:
    """Thresholds from the programmes' current bands: a band [lo, hi] gives hi (in the band ↔ above it); the
    fallback only while no programme has a version in force (desil 10 has nothing above it, so no threshold)."""
    current = current_bands(bands, today)
    if not current:
        return sorted(set(fallback))
    return sorted({b.desil_max for b in current.values() if b.desil_max < 10})


def unknown_approver_family(approver: Mapping[str, Any] | None, own_families: Set[str]) -> str | None:
    """Why the four-eyes rule cannot be judged for this approver (None when it can).

    The rule "not your own family" must never be skipped for want of the fact. The fact comes from the registry's
    data (the families whose members' NIK digests hold the officer's), never from a field someone typed: no
    officer record, an inactive one, no NIK on it, or a NIK found in no family without the dinas' declaration that
    the officer has none (the family may not have reached verification yet), refuses the approval."""
    if approver is None:
        return "you are not a registered officer; the kepala dinas registers officers and their NIK"
    if not approver["active"]:
        return "your officer record is inactive"
    if approver["nik_digest"] is None:
        return "your NIK is not recorded; the kepala dinas registers it first"
    if not own_families and not approver["no_registered_family"]:
        return (
            "your NIK is in no family verification knows of; the kepala dinas declares that you belong to no "
            "registered family (no_registered_family) first"
        )
    return None


def approval_refusal(
    *,
    approver: str,
    approver_families: Set[str],
    submitted_by: str | None,
    check_families: Iterable[str | None],
    proposal_creators: Iterable[str] = (),
) -> str | None:
    """Why this approver may not approve the check (four-eyes), or None if they may.

    `approver_families`: the families the approver is a member of (by NIK digest); `check_families`: the checked
    family and the families of the usulan the check verifies."""
    if submitted_by is not None and approver == submitted_by:
        return "the officer who submitted the visit cannot approve it"
    if approver_families & {h for h in check_families if h is not None}:
        return "an officer cannot verify their own family"
    if approver in set(proposal_creators):
        return "who entered the proposal cannot approve its ground check"
    return None


def may_take(officer_role: str, officer_wilayah: str, kelurahan_code: str) -> bool:
    """Can a field officer of this role and wilayah be assigned a check in `kelurahan_code`?"""
    return officer_role in FIELD_ROLES and code_within(kelurahan_code, officer_wilayah)


def is_overdue(status: str, due_at: datetime, now: datetime) -> bool:
    """Past due and not done."""
    return status in {"open", "assigned", "visited"} and due_at < now


def evidence_hash(evidence: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of the visit evidence (questionnaire, GPS, photo hashes, visit time)."""
    canonical = json.dumps(evidence, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
