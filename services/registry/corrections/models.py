"""The correction queue: extract rows kept out of the member table, waiting to be fixed or dismissed."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table

from services.registry.database import metadata
from shared.db.messaging import BigId
from shared.db.types import IdText

correction = Table(
    "correction",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("import_id", IdText(36), nullable=False),
    # Spreadsheet numbering of the extract (header = row 1), as in the job's error report.
    Column("row_no", Integer, nullable=False),
    # The first rule the row broke (e.g. nik.not_16_digits, nik.duplicate) and its column; `errors` has them all.
    Column("rule", String(100), nullable=False),
    Column("field", String(50), nullable=False),
    Column("errors", JSON, nullable=False),
    # The row's values as the file gave them (extract column names), PII included: read only in scope.
    Column("raw", JSON, nullable=False),
    Column("no_kk", IdText(50), nullable=True),
    Column("nik", IdText(50), nullable=True),
    # The family the row belongs to (imported without it), when there is one.
    Column("family_id", IdText(36), nullable=True),
    Column("kelurahan_code", String(20), nullable=True),
    Column("kecamatan_code", String(20), nullable=True),
    # e.g. {"other_family_id": ...} for nik.duplicate, {"head": true} for a family's head row
    Column("detail", JSON, nullable=True),
    # open / fixed / dismissed
    Column("status", String(20), nullable=False, server_default="open"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("resolved_by", String(200), nullable=True),
    Column("resolved_role", String(30), nullable=True),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("resolution_reason", String(500), nullable=True),
    # The member a fix created.
    Column("member_id", IdText(36), nullable=True),
    Index("ix_correction_status_kecamatan", "status", "kecamatan_code"),
    Index("ix_correction_family", "family_id"),
    Index("ix_correction_key", "no_kk", "nik", "rule"),
)
