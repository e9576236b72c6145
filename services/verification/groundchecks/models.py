"""Field officers and ground checks (verifikasi lapangan)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Table, Text, false, text, true
from sqlmodel import Field

from services.verification.database import VerificationModel
from shared.db.messaging import BigId


class Officer(VerificationModel, table=True):
    """A field officer (TKSK, PSM) or approver: the wilayah they cover and what the four-eyes rule knows of them."""

    __tablename__ = "officer"
    __table_args__ = (Index("ix_officer_role_wilayah", "role", "wilayah_code"),)

    subject: str = Field(primary_key=True, max_length=100)
    role: str = Field(max_length=30)
    wilayah_code: str = Field(max_length=20)
    # The officer's NIK as a keyed digest (shared/privacy/digest.py) and masked for display, never in clear: the
    # four-eyes rule finds the officer's own family(ies) by it in the read model of the registry's events. Without
    # it the officer may not approve.
    nik_digest: str | None = Field(default=None, max_length=64)
    nik_masked: str | None = Field(default=None, max_length=16)
    # The dinas declares the officer belongs to no registered family; accepted only while the read model finds
    # none. Without a family found or this declaration, approval is refused rather than the rule skipped.
    no_registered_family: bool = Field(sa_column_kwargs={"server_default": false()})
    active: bool = Field(sa_column_kwargs={"server_default": true()})
    updated_by: str = Field(max_length=100)
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))


# A check is "open" (not finished) in these states; at most one open check per (family, reason).
OPEN_STATES = ("open", "assigned", "visited")
OPEN_PREDICATE = "status IN ('open', 'assigned', 'visited')"


class GroundCheck(VerificationModel, table=True):
    """One visit to a family: why it was opened, who went, what they found and how it was decided."""

    __tablename__ = "ground_check"
    __table_args__ = (
        Index(
            "ux_ground_check_open",
            "household_id",
            "reason",
            unique=True,
            postgresql_where=text(OPEN_PREDICATE),
            sqlite_where=text(OPEN_PREDICATE),
        ),
        Index("ix_ground_check_kelurahan_status", "kelurahan_code", "status"),
        Index("ix_ground_check_assignee_status", "assigned_to", "status"),
        Index("ix_ground_check_household_decided", "household_id", "decided_at"),
        Index("ix_ground_check_campaign", "campaign_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId, sa_column_kwargs={"autoincrement": True})
    # NULL only for a new-family usulan not yet registered
    household_id: str | None = Field(default=None, max_length=100)
    kecamatan_code: str = Field(max_length=20)
    kelurahan_code: str = Field(max_length=20)
    reason: str = Field(max_length=40)
    origin_ref: str | None = Field(default=None, max_length=100)
    campaign_id: int | None = Field(default=None, sa_type=BigInteger)
    status: str = Field(max_length=20)
    assigned_to: str | None = Field(default=None, max_length=100)
    assigned_role: str | None = Field(default=None, max_length=30)
    due_at: datetime = Field(sa_type=DateTime(timezone=True))
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))
    visited_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    submitted_by: str | None = Field(default=None, max_length=100)
    submitted_role: str | None = Field(default=None, max_length=30)
    outcome: str | None = Field(default=None, max_length=20)
    outcome_reason: str | None = Field(default=None, max_length=40)
    questionnaire: str | None = Field(default=None, sa_type=Text)
    gps_lat: float | None = None
    gps_lon: float | None = None
    # How sure the phone was of the position (metres), as it reported it.
    gps_accuracy_m: float | None = None
    photos: str | None = Field(default=None, sa_type=Text)
    evidence_hash: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    decided_by: str | None = Field(default=None, max_length=100)
    review_comment: str | None = Field(default=None, sa_type=Text)
    returned_count: int = Field(sa_column_kwargs={"server_default": text("0")})
    cancel_reason: str | None = Field(default=None, max_length=200)
    version: int = Field(sa_column_kwargs={"server_default": text("1")})


class ParkedPaymentFailure(VerificationModel, table=True):
    """A payment failure for a family the read model does not know yet.

    The payment topic and the household topic are not ordered against each other, so such an event waits here until
    the family's first event arrives.
    """

    __tablename__ = "parked_payment_failure"

    line_id: str = Field(primary_key=True, max_length=100)
    household_id: str = Field(max_length=100, index=True)
    failure_reason: str = Field(max_length=50)
    parked_at: datetime = Field(sa_type=DateTime(timezone=True))


# The Core tables the set-based queries are written against.
officer: Table = Officer.__table__  # type: ignore[attr-defined]
ground_check: Table = GroundCheck.__table__  # type: ignore[attr-defined]
parked_payment_failure: Table = ParkedPaymentFailure.__table__  # type: ignore[attr-defined]
