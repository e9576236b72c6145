"""Verification's read model of families, fed by registry.household.v1 (never by the registry's tables)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, PrimaryKeyConstraint, String, Table, Text
from sqlmodel import Field

from services.verification.database import VerificationModel


class Household(VerificationModel, table=True):
    """What verification knows of a family: where it lives, its status, desil and open flags."""

    __tablename__ = "household"

    household_id: str = Field(primary_key=True, max_length=100)
    kecamatan_code: str = Field(max_length=20, index=True)
    kelurahan_code: str = Field(max_length=20, index=True)
    data_status: str = Field(max_length=30)
    status_reason: str | None = Field(default=None, max_length=100)
    desil: int | None = None
    desil_period: str | None = Field(default=None, max_length=20)
    open_flags: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_event_type: str = Field(max_length=100)
    last_event_id: str = Field(sa_column=Column(String(36), nullable=False))


class HouseholdFlag(VerificationModel, table=True):
    """One open flag kind of a family.

    One row each, so "families with an open deceased_dukcapil flag" is an indexed query on both dialects; rewritten
    together with the household row whenever a newer version arrives.
    """

    __tablename__ = "household_flag"
    __table_args__ = (Index("ix_household_flag_kind", "kind"),)

    household_id: str = Field(primary_key=True, max_length=100)
    kind: str = Field(primary_key=True, max_length=50)


class HouseholdMemberDigest(VerificationModel, table=True):
    """The keyed NIK digest of one member of a family (HouseholdState.member_digests, never a NIK).

    An officer's own family is the one whose members' digests hold the officer's (the four-eyes rule); rewritten per
    event like flags.
    """

    __tablename__ = "household_member_digest"
    __table_args__ = (Index("ix_household_member_digest_digest", "digest"),)

    household_id: str = Field(primary_key=True, max_length=100)
    digest: str = Field(primary_key=True, max_length=64)


class ProgrammeBandVersion(VerificationModel, table=True):
    """The desil band of one rule version disbursement published (programme.rule_published).

    The bands of the versions in force give the thresholds whose crossing opens a ground check (see
    `groundchecks.rules.desil_thresholds`).
    """

    __tablename__ = "programme_band"
    __table_args__ = (PrimaryKeyConstraint("programme_code", "version", name="pk_programme_band"),)

    programme_code: str = Field(max_length=50)
    version: int
    desil_min: int
    desil_max: int
    effective_from: date
    effective_to: date | None = None
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))


# The Core tables the set-based queries are written against.
household: Table = Household.__table__  # type: ignore[attr-defined]
household_flag: Table = HouseholdFlag.__table__  # type: ignore[attr-defined]
household_member_digest: Table = HouseholdMemberDigest.__table__  # type: ignore[attr-defined]
programme_band: Table = ProgrammeBandVersion.__table__  # type: ignore[attr-defined]
