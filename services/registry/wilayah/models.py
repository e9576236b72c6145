"""The wilayah table: the packaged Kemendagri reference, seeded by a migration, target of address foreign keys."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table, Text

from services.registry.database import metadata

wilayah = Table(
    "wilayah",
    metadata,
    Column("code", String(20), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("tingkat", String(20), nullable=False),
    Column("parent_code", String(20), nullable=True),
    Column("kode_bps", String(20), nullable=True),
    Column("aliases", Text, nullable=False, server_default=""),
    Index("ix_wilayah_parent_code", "parent_code"),
)
