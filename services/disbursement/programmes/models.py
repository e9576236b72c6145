"""Programmes (national mirrored, city-funded owned) and their versioned eligibility rules."""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, ForeignKey, Integer, String, Table, Text, UniqueConstraint

from services.disbursement.database import metadata
from shared.db.messaging import BigId

programme = Table(
    "programme",
    metadata,
    Column("code", String(30), primary_key=True),
    Column("name", String(200), nullable=False),
    # national (mirrored: statuses imported) / city (APBD: Tepat drives the statuses)
    Column("funding", String(20), nullable=False),
    # family / person
    Column("unit", String(20), nullable=False),
    # quarterly / monthly / one_off
    Column("periodicity", String(20), nullable=False),
    # bank_kks / pos / bpjs
    Column("channel", String(20), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

rule_version = Table(
    "rule_version",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("programme_code", String(30), ForeignKey("programme.code", name="fk_rule_programme"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("effective_to", Date, nullable=True),
    # The rule itself (programmes.rules.RuleDefinition as JSON): data, not code.
    Column("definition", Text, nullable=False),
    Column("note", String(500), nullable=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("programme_code", "version", name="uq_rule_version"),
)
