"""Verification's read model of families, fed by registry.household.v1 (never by the registry's tables)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Date, DateTime, Index, Integer, PrimaryKeyConstraint, String, Table, Text
from sqlmodel import Field

from services.verification.database import VerificationModel, metadata


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


# Open flag kinds one row each, so "families with an open deceased_dukcapil flag" is an indexed query on both
# dialects; rewritten together with the household row whenever a newer version arrives.
household_flag = Table(
    "household_flag",
    metadata,
    Column("household_id", String(100), primary_key=True),
    Column("kind", String(50), primary_key=True),
    Index("ix_household_flag_kind", "kind"),
)


# Keyed NIK digests of the members of each family (HouseholdState.member_digests, never a NIK): an officer's own
# family is the one whose members' digests hold the officer's (the four-eyes rule); rewritten per event like flags.
household_member_digest = Table(
    "household_member_digest",
    metadata,
    Column("household_id", String(100), primary_key=True),
    Column("digest", String(64), primary_key=True),
    Index("ix_household_member_digest_digest", "digest"),
)


# Every rule version disbursement published (programme.rule_published): the desil bands of the versions in force
# give the thresholds whose crossing opens a ground check (see `groundchecks.rules.desil_thresholds`).
programme_band = Table(
    "programme_band",
    metadata,
    Column("programme_code", String(50), nullable=False),
    Column("version", Integer, nullable=False),
    Column("desil_min", Integer, nullable=False),
    Column("desil_max", Integer, nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("effective_to", Date, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("programme_code", "version", name="pk_programme_band"),
)
