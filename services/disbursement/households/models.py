"""Disbursement's read model of families, fed by registry.household.v1 and verification.outcome.v1."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, Index, Integer, String, Table, text

from services.disbursement.database import metadata

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

household_status = Table(
    "household_status",
    metadata,
    Column("household_id", String(100), primary_key=True),
    # NULL until the first registry event arrives (a verification outcome may come first).
    Column("kecamatan_code", String(20), nullable=True),
    Column("kelurahan_code", String(20), nullable=True),
    Column("data_status", String(30), nullable=True),
    Column("status_reason", String(100), nullable=True),
    Column("desil", Integer, nullable=True),
    Column("desil_period", String(20), nullable=True),
    # The registry member who receives the family's assistance (issue 12: payment lines name them).
    Column("recipient_member_id", String(36), nullable=True),
    # Flag kinds as ",kind1,kind2," so SQL can test membership with LIKE '%,kind,%' on both databases.
    Column("open_flags", String(1000), nullable=False, server_default=""),
    Column("confirmed_flags", String(1000), nullable=False, server_default=""),
    *(Column(name, Integer, nullable=False, server_default=text("0")) for name in COMPOSITION),
    Column("last_outcome", String(20), nullable=True),
    Column("last_outcome_reason", String(50), nullable=True),
    Column("last_verified_at", DateTime(timezone=True), nullable=True),
    # The day the family became inactive (for "paid after deactivation"); NULL while not inactive.
    Column("inactive_since", Date, nullable=True),
    # The registry's aggregate_version of the newest household event applied (0 = none yet).
    Column("version", BigInteger, nullable=False, server_default=text("0")),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_household_status_kelurahan", "kelurahan_code"),
    Index("ix_household_status_kecamatan", "kecamatan_code"),
)
