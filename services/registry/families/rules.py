"""Plain rules about families and members: composition counting, status transitions, deactivation reasons."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from services.registry.domain.flags import DEACTIVATING_KINDS, STATUS_NEUTRAL_KINDS
from shared.events.household import Composition, DataStatus


class ExistenceStatus(StrEnum):
    """Is the family still where the register says (DOMAIN §3)."""

    PRESENT = "present"
    MOVED = "moved"
    NOT_FOUND = "not_found"
    ALL_DECEASED = "all_deceased"
    DUPLICATE = "duplicate"


class InactiveReason(StrEnum):
    """Why a family became inactive (DOMAIN §4, the ground-check 'tidak layak' reasons)."""

    DECEASED = "deceased"
    MOVED = "moved"
    NOT_FOUND = "not_found"
    DUPLICATE = "duplicate"
    WELL_OFF = "well_off"
    EXCLUDED = "excluded"
    REFUSED = "refused"


class Source(StrEnum):
    """Where a family or member record came from."""

    DTSEN_IMPORT = "dtsen_import"
    LOCAL_PROPOSAL = "local_proposal"
    CITIZEN_APP = "citizen_app"
    DINSOS_COUNTER = "dinsos_counter"
    # a row of the import correction queue, fixed by an operator or TKSK
    IMPORT_CORRECTION = "import_correction"


class SchoolStatus(StrEnum):
    """Current schooling, as programmes pay for it (PKH school components)."""

    NONE = "none"
    SD = "sd"
    SMP = "smp"
    SMA = "sma"
    COLLEGE = "college"


class Disability(StrEnum):
    """Disability severity (sensitive)."""

    NONE = "none"
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


# Reasons of inactivity implied by an existence status (a family that moved away is inactive "moved").
EXISTENCE_FOR_REASON: dict[str, ExistenceStatus] = {
    InactiveReason.DECEASED: ExistenceStatus.ALL_DECEASED,
    InactiveReason.MOVED: ExistenceStatus.MOVED,
    InactiveReason.NOT_FOUND: ExistenceStatus.NOT_FOUND,
    InactiveReason.DUPLICATE: ExistenceStatus.DUPLICATE,
}

# The reason a family gets when an open flag moves it to needs_verification; only this reason is lifted
# automatically when the last open flag is resolved (an objection or complaint is lifted by a ground check).
OPEN_FLAG_REASON = "open_flag"


@dataclass(frozen=True)
class MemberFacts:
    """What composition counting needs to know about one member (no identifiers)."""

    active: bool
    deceased: bool
    birth_date: date | None
    school_status: str | None
    disability: str | None
    pregnant: bool | None


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on `day`."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def composition(members: Iterable[MemberFacts], today: date) -> Composition:
    """Counts of living active members by the categories programmes pay for."""
    counts = dict.fromkeys(Composition.model_fields, 0)
    for m in members:
        if not m.active or m.deceased:
            continue
        counts["members"] += 1
        if m.birth_date is not None:
            age = age_on(m.birth_date, today)
            if 0 <= age <= 6:
                counts["children_0_6"] += 1
            if age >= 70:
                counts["elderly_70"] += 1
        if m.school_status in (SchoolStatus.SD, SchoolStatus.SMP, SchoolStatus.SMA):
            counts[f"school_{m.school_status}"] += 1
        if m.disability == Disability.SEVERE:
            counts["disabled_severe"] += 1
        if m.pregnant:
            counts["pregnant"] += 1
    return Composition(**counts)


@dataclass(frozen=True)
class StatusDecision:
    """A family's data status and reason after applying the rules."""

    data_status: DataStatus
    reason: str | None
    existence_status: str


def status_after_change(
    *,
    data_status: DataStatus,
    reason: str | None,
    existence_status: str,
    open_flags: Iterable[str],
    confirmed_flags: Iterable[str],
    living_members: int,
    any_members: bool,
) -> StatusDecision:
    """The family status after a change, per DOMAIN §4: flags move active ⇄ needs verification;
    confirmed exclusions, a confirmed duplicate KK or no living member left make it inactive."""
    open_kinds, confirmed_kinds = set(open_flags) - STATUS_NEUTRAL_KINDS, set(confirmed_flags)
    if data_status == DataStatus.INACTIVE:
        # Only a ground check (verification outcome) brings an inactive family back.
        return StatusDecision(data_status, reason, existence_status)
    if any_members and living_members == 0:
        return StatusDecision(DataStatus.INACTIVE, InactiveReason.DECEASED, ExistenceStatus.ALL_DECEASED)
    for kind, why in DEACTIVATING_KINDS.items():
        if kind in confirmed_kinds:
            return StatusDecision(DataStatus.INACTIVE, why, EXISTENCE_FOR_REASON.get(why, existence_status))
    if open_kinds:
        if data_status == DataStatus.ACTIVE:
            return StatusDecision(DataStatus.NEEDS_VERIFICATION, OPEN_FLAG_REASON, existence_status)
        return StatusDecision(data_status, reason, existence_status)
    if data_status == DataStatus.NEEDS_VERIFICATION and reason == OPEN_FLAG_REASON:
        return StatusDecision(DataStatus.ACTIVE, None, existence_status)
    return StatusDecision(data_status, reason, existence_status)


def status_from_outcome(outcome: str, reason: str | None, existence_status: str) -> StatusDecision:
    """The status a ground-check outcome gives: layak → active (present), tidak layak → inactive + reason."""
    if outcome == "layak":
        return StatusDecision(DataStatus.ACTIVE, None, ExistenceStatus.PRESENT)
    why = reason or "tidak_layak"
    return StatusDecision(DataStatus.INACTIVE, why, EXISTENCE_FOR_REASON.get(why, existence_status))


RECIPIENT_MIN_AGE = 17  # UU Adminduk: a resident gets a KTP (is an adult) at 17, or earlier when married


@dataclass(frozen=True)
class RecipientCandidate:
    """What decides whether a member may receive a family's assistance."""

    family_id: str
    active: bool
    deceased: bool
    nik_issue: str | None
    birth_date: date | None
    marital_status: str | None


def recipient_refusal(candidate: RecipientCandidate, *, family_id: str, today: date) -> tuple[str, str] | None:
    """(reason code, message) why this member may not be the family's recipient, None if they may."""
    if candidate.family_id != family_id or not candidate.active:
        return "recipient.not_in_family", "the member is not an active member of this family"
    if candidate.deceased:
        return "recipient.deceased", "the member is recorded as deceased"
    if candidate.nik_issue is not None:
        return "recipient.invalid_nik", f"the member's NIK is not valid ({candidate.nik_issue})"
    married = candidate.marital_status not in (None, "belum_kawin")
    if not married:
        if candidate.birth_date is None:
            return "recipient.age_unknown", "the member's birth date is unknown and they are not married"
        if age_on(candidate.birth_date, today) < RECIPIENT_MIN_AGE:
            return "recipient.minor", f"the member is under {RECIPIENT_MIN_AGE} and not married"
    return None
