"""Programmes (national mirrored, city-funded owned) and their versioned eligibility rules."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime, ForeignKey, String, Table, Text, UniqueConstraint
from sqlmodel import Field

from services.disbursement.database import DisbursementModel
from shared.db.messaging import BigId


class Programme(DisbursementModel, table=True):
    """A programme: national ones are mirrored (statuses imported), city-funded ones are driven by Tepat."""

    __tablename__ = "programme"

    code: str = Field(primary_key=True, max_length=30)
    name: str = Field(max_length=200)
    # national (mirrored: statuses imported) / city (APBD: Tepat drives the statuses)
    funding: str = Field(max_length=20)
    # family / person
    unit: str = Field(max_length=20)
    # quarterly / monthly / one_off
    periodicity: str = Field(max_length=20)
    # bank_kks / pos / bpjs
    channel: str = Field(max_length=20)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class RuleVersion(DisbursementModel, table=True):
    """One version of a programme's eligibility rule, in force from `effective_from`."""

    __tablename__ = "rule_version"
    __table_args__ = (UniqueConstraint("programme_code", "version", name="uq_rule_version"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    programme_code: str = Field(
        sa_column=Column(String(30), ForeignKey("programme.code", name="fk_rule_programme"), nullable=False)
    )
    version: int
    effective_from: date
    effective_to: date | None = None
    # The rule itself (programmes.rules.RuleDefinition as JSON): data, not code.
    definition: str = Field(sa_column=Column(Text, nullable=False))
    note: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


# The Core tables, under their old names: the set-based queries are written against them.
programme: Table = Programme.__table__  # type: ignore[attr-defined]
rule_version: Table = RuleVersion.__table__  # type: ignore[attr-defined]
