"""Tables of families (keluarga), members (individu), their history, idempotency keys and personal-data reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    false,
    func,
    select,
    text,
    true,
)
from sqlalchemy.sql import ColumnElement

from services.registry.database import metadata
from shared.db.messaging import BigId
from shared.db.types import IdText
from shared.http.idempotency import idempotency_table

family = Table(
    "family",
    metadata,
    # The household id every event and every other service uses (uuid as text).
    Column("id", IdText(36), primary_key=True),
    Column("no_kk", IdText(16), nullable=False),
    Column("head_nik", IdText(16), nullable=False),
    # The member who receives the assistance: the head unless a verified recipient_change named another.
    # NULL (families a bulk import wrote) reads as the head: see families.recipient.recipient_expr.
    Column("recipient_member_id", IdText(36), nullable=True),
    Column("address", String(300), nullable=False),
    Column("rt", String(3), nullable=False),
    Column("rw", String(3), nullable=False),
    Column("kelurahan_code", String(20), ForeignKey("wilayah.code", name="fk_family_kelurahan"), nullable=False),
    Column("kecamatan_code", String(20), nullable=False),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    # present / moved / not_found / all_deceased / duplicate (DOMAIN §3)
    Column("existence_status", String(20), nullable=False, server_default="present"),
    # active / needs_verification / inactive (DOMAIN §4)
    Column("data_status", String(30), nullable=False, server_default="active"),
    Column("status_reason", String(100), nullable=True),
    # dtsen_import / local_proposal / citizen_app / dinsos_counter
    Column("source", String(30), nullable=False),
    Column("desil", Integer, nullable=True),
    Column("desil_period", String(20), nullable=True),
    # The first period of the uninterrupted run of the current desil value.
    Column("desil_since", String(20), nullable=True),
    # verified_at of the newest ground-check outcome applied (older outcomes are ignored).
    Column("last_verified_at", DateTime(timezone=True), nullable=True),
    # The aggregate version: +1 per event emitted about the family; the ETag of the family.
    Column("version", BigInteger, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(200), nullable=False),
    UniqueConstraint("no_kk", name="uq_family_no_kk"),
    Index("ix_family_kelurahan_id", "kelurahan_code", "id"),
    Index("ix_family_kecamatan", "kecamatan_code"),
    Index("ix_family_head_nik", "head_nik"),
    Index("ix_family_data_status", "data_status"),
)

member = Table(
    "member",
    metadata,
    Column("id", IdText(36), primary_key=True),
    Column("family_id", IdText(36), ForeignKey("family.id", name="fk_member_family"), nullable=False),
    Column("nik", IdText(16), nullable=False),
    # The rule a stored NIK breaks (e.g. nik.bad_day), None when valid: legacy imports keep bad NIKs and flag them.
    Column("nik_issue", String(50), nullable=True),
    Column("name", String(200), nullable=False),
    Column("birth_place", String(100), nullable=True),
    Column("birth_date", Date, nullable=True),
    Column("sex", String(1), nullable=True),
    Column("relationship", String(30), nullable=False),
    Column("marital_status", String(30), nullable=True),
    Column("education", String(30), nullable=True),
    Column("school_status", String(30), nullable=True),
    Column("occupation", String(100), nullable=True),
    # Sensitive (UU PDP): only returned to roles holding READ_SENSITIVE.
    Column("disability", String(20), nullable=True),
    Column("pregnant", Boolean, nullable=True),
    Column("deceased", Boolean, nullable=False, server_default=false()),
    Column("deceased_date", Date, nullable=True),
    Column("death_certificate_no", String(50), nullable=True),
    # False once the person left the family record (removed, merged); a move keeps the row and changes family_id.
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("source", String(30), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_member_family", "family_id"),
    Index("ix_member_nik", "nik"),
    # A person belongs to exactly one active KK (DOMAIN §6), enforced by the database on both dialects.
    Index(
        "uq_member_active_nik",
        "nik",
        unique=True,
        postgresql_where=text("active"),
        sqlite_where=text("active"),
    ),
)

family_history = Table(
    "family_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("family_id", IdText(36), nullable=False),
    Column("member_id", IdText(36), nullable=True),
    # The family version this change produced.
    Column("version", BigInteger, nullable=False),
    Column("action", String(50), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("actor_role", String(30), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reason", String(500), nullable=True),
    # Full values (PII included): only authorised roles read it, and the API masks identifiers by default.
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("request_id", String(100), nullable=True),
    Index("ix_family_history_family", "family_id", "id"),
)

idempotency_key = idempotency_table(metadata)

personal_data_access = Table(
    "personal_data_access",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("actor", String(200), nullable=False),
    Column("actor_role", String(30), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("family_id", IdText(36), nullable=False),
    Column("member_id", IdText(36), nullable=True),
    Column("purpose", String(300), nullable=False),
    # What was revealed: e.g. "nik,no_kk" or "history".
    Column("fields", String(200), nullable=False),
    Column("request_id", String(100), nullable=True),
    Index("ix_personal_data_access_family", "family_id"),
    Index("ix_personal_data_access_actor", "actor", "at"),
)


def recipient_expr(fam: Any = family) -> ColumnElement[Any]:
    """SQL: the family row's recipient member id; an unset one (bulk-imported families) is the head."""
    head = member.alias("head_member")
    head_id = (
        select(func.min(head.c.id))
        .where(head.c.family_id == fam.c.id, head.c.nik == fam.c.head_nik, head.c.active)
        .scalar_subquery()
    )
    return func.coalesce(fam.c.recipient_member_id, head_id)
