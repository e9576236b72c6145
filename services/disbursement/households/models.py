"""Disbursement's read model of families, fed by registry.household.v1 and verification.outcome.v1."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, String, Table, text
from sqlmodel import Field, SQLModel

from services.disbursement.database import DisbursementModel

# The family composition counts, one integer column each in household_status and in tahap_list.
COMPOSITION = (
    "members",
    "children_0_6",
    "school_sd",
    "school_smp",
    "school_sma",
    "elderly_70",
    "disabled_severe",
    "pregnant",
)


def flag_list() -> Any:
    """A column of flag kinds written as ",kind1,kind2," (empty when none)."""
    return Field(default="", sa_column=Column(String(1000), nullable=False, server_default=""))


def _zero_count() -> Any:
    # sa_type/sa_column_kwargs, never an sa_column: every table inheriting the field gets a column of its own.
    return Field(sa_type=Integer, sa_column_kwargs={"server_default": text("0")})


class CompositionCounts(SQLModel):
    """The COMPOSITION counts as columns (of household_status and tahap_list): integers, 0 until the registry says.

    Declared once for both tables (so their columns come first in each).
    """

    members: int = _zero_count()
    children_0_6: int = _zero_count()
    school_sd: int = _zero_count()
    school_smp: int = _zero_count()
    school_sma: int = _zero_count()
    elderly_70: int = _zero_count()
    disabled_severe: int = _zero_count()
    pregnant: int = _zero_count()


class HouseholdStatus(CompositionCounts, DisbursementModel, table=True):
    """What disbursement knows of a family: where it lives, its status, desil, flags, composition and verification."""

    __tablename__ = "household_status"
    __table_args__ = (
        Index("ix_household_status_kelurahan", "kelurahan_code"),
        Index("ix_household_status_kecamatan", "kecamatan_code"),
    )

    household_id: str = Field(primary_key=True, max_length=100)
    # NULL until the first registry event arrives (a verification outcome may come first).
    kecamatan_code: str | None = Field(default=None, max_length=20)
    kelurahan_code: str | None = Field(default=None, max_length=20)
    data_status: str | None = Field(default=None, max_length=30)
    status_reason: str | None = Field(default=None, max_length=100)
    desil: int | None = None
    desil_period: str | None = Field(default=None, max_length=20)
    # The registry member who receives the family's assistance (issue 12: payment lines name them).
    recipient_member_id: str | None = Field(default=None, max_length=36)
    # Flag kinds as ",kind1,kind2," so SQL can test membership with LIKE '%,kind,%' on both databases.
    open_flags: str = flag_list()
    confirmed_flags: str = flag_list()
    last_outcome: str | None = Field(default=None, max_length=20)
    last_outcome_reason: str | None = Field(default=None, max_length=50)
    last_verified_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # The day the family became inactive (for "paid after deactivation"); NULL while not inactive.
    inactive_since: date | None = None
    # The registry's aggregate_version of the newest household event applied (0 = none yet).
    version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0")))
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))


# The Core table, under its old name: the set-based queries are written against it.
household_status: Table = HouseholdStatus.__table__  # type: ignore[attr-defined]
