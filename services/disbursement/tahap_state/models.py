"""Tahap (payment rounds), their list generations and the frozen lists."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlmodel import Field

from services.disbursement.database import DisbursementModel
from services.disbursement.households.models import CompositionCounts, flag_list


class Tahap(DisbursementModel, table=True):
    """A payment round of a programme, from draft through its frozen list to payment and closing."""

    __tablename__ = "tahap"
    __table_args__ = (UniqueConstraint("programme_code", "label", name="uq_tahap_label"),)

    id: str = Field(primary_key=True, max_length=36)
    programme_code: str = Field(
        sa_column=Column(String(30), ForeignKey("programme.code", name="fk_tahap_programme"), nullable=False)
    )
    label: str = Field(max_length=40)
    # The day eligibility is judged on (verification age, rule effective dates).
    as_of: date
    rule_version_id: int = Field(sa_type=BigInteger)
    # draft / list_generated / approved / paying / closed / cancelled
    status: str = Field(max_length=20)
    generation: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))
    list_hash: str | None = Field(default=None, max_length=64)
    listed_count: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))
    total_amount: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0")))
    prepared_by: str | None = Field(default=None, max_length=200)
    prepared_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    approved_by: str | None = Field(default=None, max_length=200)
    approved_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    cancelled_by: str | None = Field(default=None, max_length=200)
    cancel_reason: str | None = Field(default=None, max_length=500)
    closed_by: str | None = Field(default=None, max_length=200)
    # The newest payment instruction file built from the list (payment_files): its kind, sha256 and control totals.
    payment_file_kind: str | None = Field(default=None, max_length=20)
    payment_file_sha256: str | None = Field(default=None, max_length=64)
    payment_file_count: int | None = None
    payment_file_total: int | None = Field(default=None, sa_type=BigInteger)
    payment_file_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    payment_file_by: str | None = Field(default=None, max_length=200)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))


class TahapGeneration(DisbursementModel, table=True):
    """One generation of a tahap's list: who generated it, its hash, totals and what changed from the previous."""

    __tablename__ = "tahap_generation"
    __table_args__ = (PrimaryKeyConstraint("tahap_id", "generation", name="pk_tahap_generation"),)

    tahap_id: str = Field(
        sa_column=Column(String(36), ForeignKey("tahap.id", name="fk_generation_tahap"), nullable=False)
    )
    generation: int
    generated_by: str = Field(max_length=200)
    generated_at: datetime = Field(sa_type=DateTime(timezone=True))
    list_hash: str = Field(max_length=64)
    listed_count: int
    total_amount: int = Field(sa_type=BigInteger)
    added: int
    removed: int
    changed: int


class TahapKey(DisbursementModel, table=True):
    """A small integer standing for a tahap in its frozen lists.

    Keys of hundreds of thousands of rows per generation stay narrow (the 36-character id would dominate every
    index entry).
    """

    __tablename__ = "tahap_key"

    key: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    tahap_id: str = Field(
        sa_column=Column(String(36), ForeignKey("tahap.id", name="fk_tahap_key_tahap"), nullable=False, unique=True)
    )


class TahapList(CompositionCounts, DisbursementModel, table=True):
    """One family of the read model as evaluated when a tahap's list was generated.

    The verdict, for listed families the rank and amount, and the frozen inputs (the read model's columns the rule
    looked at, as typed columns: cheaper to write than a JSON document per family; `eligibility.frozen_inputs`
    gives them back as one mapping). Only the newest two generations of a tahap are kept.
    """

    __tablename__ = "tahap_list"
    __table_args__ = (
        PrimaryKeyConstraint("tahap_key", "generation", "household_id", name="pk_tahap_list_key"),
        # Ranks of qualifying families only (listed ones and those over the quota): the families out of the band,
        # most of a city, would all share one (tahap, generation, NULL) key that costs more to maintain than to skip.
        Index(
            "ix_tahap_list_key_rank",
            "tahap_key",
            "generation",
            "list_rank",
            postgresql_where=text("list_rank IS NOT NULL"),
            sqlite_where=text("list_rank IS NOT NULL"),
        ),
    )

    tahap_key: int
    generation: int
    household_id: str = Field(max_length=100)
    kecamatan_code: str = Field(max_length=20)
    kelurahan_code: str = Field(max_length=20)
    desil: int | None = None
    amount: int = Field(sa_type=BigInteger)
    list_rank: int | None = None
    listed: bool
    reason: str = Field(max_length=40)
    data_status: str | None = Field(default=None, max_length=30)
    status_reason: str | None = Field(default=None, max_length=100)
    desil_period: str | None = Field(default=None, max_length=20)
    confirmed_flags: str = flag_list()
    open_flags: str = flag_list()
    last_outcome: str | None = Field(default=None, max_length=20)
    last_verified_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    registry_version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0")))


# The Core tables, under their old names: the set-based queries are written against them.
tahap: Table = Tahap.__table__  # type: ignore[attr-defined]
tahap_generation: Table = TahapGeneration.__table__  # type: ignore[attr-defined]
tahap_key: Table = TahapKey.__table__  # type: ignore[attr-defined]
tahap_list: Table = TahapList.__table__  # type: ignore[attr-defined]
