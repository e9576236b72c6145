"""Tahap (payment rounds), their list generations and the frozen lists."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
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

from services.disbursement.database import metadata
from services.disbursement.households.models import COMPOSITION

tahap = Table(
    "tahap",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("programme_code", String(30), ForeignKey("programme.code", name="fk_tahap_programme"), nullable=False),
    Column("label", String(40), nullable=False),
    # The day eligibility is judged on (verification age, rule effective dates).
    Column("as_of", Date, nullable=False),
    Column("rule_version_id", BigInteger, nullable=False),
    # draft / list_generated / approved / paying / closed / cancelled
    Column("status", String(20), nullable=False),
    Column("generation", Integer, nullable=False, server_default=text("0")),
    Column("list_hash", String(64), nullable=True),
    Column("listed_count", Integer, nullable=False, server_default=text("0")),
    Column("total_amount", BigInteger, nullable=False, server_default=text("0")),
    Column("prepared_by", String(200), nullable=True),
    Column("prepared_at", DateTime(timezone=True), nullable=True),
    Column("approved_by", String(200), nullable=True),
    Column("approved_at", DateTime(timezone=True), nullable=True),
    Column("cancelled_by", String(200), nullable=True),
    Column("cancel_reason", String(500), nullable=True),
    Column("closed_by", String(200), nullable=True),
    # The newest payment instruction file built from the list (payment_files): its kind, sha256 and control totals.
    Column("payment_file_kind", String(20), nullable=True),
    Column("payment_file_sha256", String(64), nullable=True),
    Column("payment_file_count", Integer, nullable=True),
    Column("payment_file_total", BigInteger, nullable=True),
    Column("payment_file_at", DateTime(timezone=True), nullable=True),
    Column("payment_file_by", String(200), nullable=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("programme_code", "label", name="uq_tahap_label"),
)

tahap_generation = Table(
    "tahap_generation",
    metadata,
    Column("tahap_id", String(36), ForeignKey("tahap.id", name="fk_generation_tahap"), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("generated_by", String(200), nullable=False),
    Column("generated_at", DateTime(timezone=True), nullable=False),
    Column("list_hash", String(64), nullable=False),
    Column("listed_count", Integer, nullable=False),
    Column("total_amount", BigInteger, nullable=False),
    Column("added", Integer, nullable=False),
    Column("removed", Integer, nullable=False),
    Column("changed", Integer, nullable=False),
    PrimaryKeyConstraint("tahap_id", "generation", name="pk_tahap_generation"),
)

# A small integer standing for a tahap in its frozen lists: keys of hundreds of thousands of rows per generation
# stay narrow (the 36-character id would dominate every index entry).
tahap_key = Table(
    "tahap_key",
    metadata,
    Column("key", Integer, primary_key=True, autoincrement=True),
    Column("tahap_id", String(36), ForeignKey("tahap.id", name="fk_tahap_key_tahap"), nullable=False, unique=True),
)

# Every family of the read model as evaluated when the list was generated: the verdict, for listed families the
# rank and amount, and the frozen inputs (the read model's columns the rule looked at, as typed columns: cheaper
# to write than a JSON document per family; `eligibility.frozen_inputs` gives them back as one mapping).
# Only the newest two generations of a tahap are kept.
tahap_list = Table(
    "tahap_list",
    metadata,
    Column("tahap_key", Integer, nullable=False),
    Column("generation", Integer, nullable=False),
    Column("household_id", String(100), nullable=False),
    Column("kecamatan_code", String(20), nullable=False),
    Column("kelurahan_code", String(20), nullable=False),
    Column("desil", Integer, nullable=True),
    Column("amount", BigInteger, nullable=False),
    Column("list_rank", Integer, nullable=True),
    Column("listed", Boolean, nullable=False),
    Column("reason", String(40), nullable=False),
    Column("data_status", String(30), nullable=True),
    Column("status_reason", String(100), nullable=True),
    Column("desil_period", String(20), nullable=True),
    Column("confirmed_flags", String(1000), nullable=False, server_default=""),
    Column("open_flags", String(1000), nullable=False, server_default=""),
    Column("last_outcome", String(20), nullable=True),
    Column("last_verified_at", DateTime(timezone=True), nullable=True),
    Column("registry_version", BigInteger, nullable=False, server_default=text("0")),
    *(Column(name, Integer, nullable=False, server_default=text("0")) for name in COMPOSITION),
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
