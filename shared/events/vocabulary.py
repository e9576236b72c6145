"""The one vocabulary of flag kinds, status reasons and hold reasons that every service's events, rules and
triggers use (issue 12 §5): a rule or trigger naming anything else is a bug, and a unit test says so."""

from __future__ import annotations

from enum import StrEnum


class FlagKind(StrEnum):
    """Data-quality flags the registry raises (DOMAIN §3: the checks BPK used in its audits, and the
    ones imperfect data needs: rows waiting for correction, conflicting death records, a dead recipient)."""

    INVALID_NIK = "invalid_nik"
    SEX_NIK_MISMATCH = "sex_nik_mismatch"
    DUPLICATE_NIK = "duplicate_nik"
    DUPLICATE_KK = "duplicate_kk"
    NIK_NOT_MATCHED = "nik_not_matched"
    DECEASED_DUKCAPIL = "deceased_dukcapil"
    EXCLUDED_OCCUPATION = "excluded_occupation"
    INCOME_ABOVE_UMR = "income_above_umr"
    ELECTRICITY_NON_SUBSIDISED = "electricity_non_subsidised"
    CAR_OWNER = "car_owner"
    BUSINESS_OWNER = "business_owner"
    # A row of the family's KK waits in the correction queue (the family is imported without it). A hold for
    # payment rules (unverified data), never an exclusion; cleared when the family's queue entries are settled.
    MEMBER_NEEDS_CORRECTION = "member_needs_correction"
    DEATH_RECORD_CONFLICT = "death_record_conflict"
    RECIPIENT_DECEASED = "recipient_deceased"


class StatusReason(StrEnum):
    """Why a family's data status is what it is (household state `status_reason`; DOMAIN §4)."""

    DECEASED = "deceased"
    ALL_DECEASED = "all_deceased"
    MOVED = "moved"
    NOT_FOUND = "not_found"
    DUPLICATE = "duplicate"
    WELL_OFF = "well_off"
    EXCLUDED = "excluded"
    REFUSED = "refused"


class HoldReason(StrEnum):
    """Why a frozen payment line is held (disbursement), named the same wherever it is reported."""

    DECEASED = "deceased"
    DATA_INACTIVE = "data_inactive"
    VERIFIED_TIDAK_LAYAK = "verified_tidak_layak"
    EXCLUDED_FLAG = "excluded_flag"
    RECIPIENT_DECEASED = "recipient_deceased"
    # A holding flag of the programme rule (DEFAULT_HOLDING_FLAGS in disbursement): the family stays listed, the
    # line waits until the registry clears the flag. Named after the flag where the flag has its own reason.
    MEMBER_NEEDS_CORRECTION = "member_needs_correction"
    DEATH_RECORD_CONFLICT = "death_record_conflict"
    HOLDING_FLAG = "holding_flag"


FLAG_KINDS: frozenset[str] = frozenset(k.value for k in FlagKind)
