"""Payload schemas of the household topics (PII-free: ids, wilayah codes, status codes, numbers)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.vocabulary import FlagKind
from shared.privacy.digest import DIGEST_PATTERN

WILAYAH_KELURAHAN = r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$"
WILAYAH_KECAMATAN = r"^\d{2}\.\d{2}\.\d{2}$"


class DataStatus(StrEnum):
    """Family data status (DOMAIN §4)."""

    ACTIVE = "active"
    NEEDS_VERIFICATION = "needs_verification"
    INACTIVE = "inactive"


class HouseholdEventType(StrEnum):
    """Event types on registry.household.v1."""

    REGISTERED = "household.registered"
    UPDATED = "household.updated"
    MEMBER_ADDED = "household.member_added"
    MEMBER_REMOVED = "household.member_removed"
    MEMBER_DECEASED = "household.member_deceased"
    FLAGGED = "household.flagged"
    FLAG_RESOLVED = "household.flag_resolved"
    DESIL_CHANGED = "household.desil_changed"
    STATUS_CHANGED = "household.status_changed"
    # Nothing changed: the current state sent again at a new version (an ops backfill, `tepat republish-households`).
    REPUBLISHED = "household.republished"


class Composition(BaseModel):
    """Counts of living members by the categories programmes pay for (no names, no birth dates)."""

    model_config = ConfigDict(extra="ignore")

    members: int = Field(default=0, ge=0)
    children_0_6: int = Field(default=0, ge=0)
    school_sd: int = Field(default=0, ge=0)
    school_smp: int = Field(default=0, ge=0)
    school_sma: int = Field(default=0, ge=0)
    elderly_70: int = Field(default=0, ge=0)
    disabled_severe: int = Field(default=0, ge=0)
    pregnant: int = Field(default=0, ge=0)


class HouseholdState(BaseModel):
    """The state of a family after the change: every household event carries it, so read models
    can be rebuilt from any single event and a stale one is recognised by its aggregate_version."""

    model_config = ConfigDict(extra="ignore")

    household_id: str = Field(min_length=1, max_length=100)
    kecamatan_code: str = Field(pattern=WILAYAH_KECAMATAN)
    kelurahan_code: str = Field(pattern=WILAYAH_KELURAHAN)
    data_status: DataStatus
    status_reason: str | None = Field(default=None, max_length=100)
    desil: int | None = Field(default=None, ge=1, le=10)
    desil_period: str | None = Field(default=None, max_length=20)
    # The member (id, never the NIK) who receives the family's assistance: the head unless replaced.
    recipient_member_id: str | None = Field(default=None, max_length=36)
    # Kinds of the shared vocabulary only: an unknown kind is a producer bug, not something to store.
    open_flags: list[FlagKind] = Field(default_factory=list)
    confirmed_flags: list[FlagKind] = Field(default_factory=list)
    composition: Composition = Field(default_factory=Composition)
    # Keyed digests (shared/privacy/digest.py) of the NIKs of everyone on the KK, never the NIKs: verification
    # finds an officer's own family by them. None in events that predate the field (keep what you had).
    member_digests: list[Annotated[str, Field(pattern=DIGEST_PATTERN)]] | None = Field(
        default=None, description="HMAC-SHA256 digests of the active members' NIKs, sorted."
    )
    change: dict[str, Any] = Field(default_factory=dict, description="What this event changed (codes only).")


class VerificationEventType(StrEnum):
    """Event types on verification.outcome.v1."""

    COMPLETED = "verification.completed"
    OBJECTION_UPHELD = "objection.upheld"
    OBJECTION_REJECTED = "objection.rejected"
    OBJECTION_LAPSED = "objection.lapsed"
    RECIPIENT_CHANGE_APPROVED = "recipient.change_approved"


class VerificationOutcome(BaseModel):
    """An approved ground check's outcome."""

    model_config = ConfigDict(extra="ignore")

    household_id: str = Field(min_length=1, max_length=100)
    check_id: str
    outcome: Literal["layak", "tidak_layak"]
    reason: str | None = Field(default=None, max_length=50)
    verified_at: datetime
    officer_role: str
    evidence_hash: str | None = None
