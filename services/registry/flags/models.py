"""Data-quality and exclusion flags (DOMAIN §3), one open flag per (family, member, kind)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, String, Table, text

from services.registry.database import metadata
from shared.db.messaging import BigId
from shared.db.types import IdText

flag = Table(
    "flag",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("family_id", IdText(36), ForeignKey("family.id", name="fk_flag_family"), nullable=False),
    Column("member_id", IdText(36), ForeignKey("member.id", name="fk_flag_member"), nullable=True),
    # member_id, or '' for a family-level flag: NULLs never collide in a unique index, '' does.
    Column("subject_key", IdText(36), nullable=False),
    Column("kind", String(40), nullable=False),
    # e.g. pns / tni / polri / pejabat / bumn_bumd for excluded_occupation
    Column("sub_kind", String(40), nullable=True),
    # open / confirmed / refuted / cleared (cleared: the system saw the condition disappear)
    Column("status", String(20), nullable=False, server_default="open"),
    # system (computed on write) / dukcapil / bkd / ... (external lists)
    Column("source", String(50), nullable=False),
    Column("detail", JSON, nullable=True),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("resolved_by", String(200), nullable=True),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("resolution_reason", String(500), nullable=True),
    Index("ix_flag_family", "family_id"),
    Index("ix_flag_kind_status", "kind", "status"),
    Index(
        "uq_flag_open",
        "family_id",
        "subject_key",
        "kind",
        unique=True,
        postgresql_where=text("status = 'open'"),
        sqlite_where=text("status = 'open'"),
    ),
)
