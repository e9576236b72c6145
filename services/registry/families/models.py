"""Tables of families (keluarga), members (individu), their flags, history, idempotency keys and personal-data
reads."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Table,
    UniqueConstraint,
    false,
    func,
    select,
    text,
    true,
)
from sqlalchemy.sql import ColumnElement
from sqlmodel import Field

from services.registry.database import RegistryModel, metadata
from shared.db.messaging import BigId
from shared.db.types import IdText
from shared.http.idempotency import idempotency_table


class Family(RegistryModel, table=True):
    """A family (keluarga) by its No. KK: address, statuses, desil and the aggregate version."""

    __tablename__ = "family"
    __table_args__ = (
        UniqueConstraint("no_kk", name="uq_family_no_kk"),
        Index("ix_family_kelurahan_id", "kelurahan_code", "id"),
        Index("ix_family_kecamatan", "kecamatan_code"),
        Index("ix_family_head_nik", "head_nik"),
        Index("ix_family_data_status", "data_status"),
    )

    # The household id every event and every other service uses (uuid as text).
    id: str = Field(sa_type=IdText(36), primary_key=True)
    no_kk: str = Field(sa_type=IdText(16))
    head_nik: str = Field(sa_type=IdText(16))
    # The member who receives the assistance: the head unless a verified recipient_change named another.
    # NULL (families a bulk import wrote) reads as the head: see families.recipient.recipient_expr.
    recipient_member_id: str | None = Field(default=None, sa_type=IdText(36))
    address: str = Field(max_length=300)
    rt: str = Field(max_length=3)
    rw: str = Field(max_length=3)
    kelurahan_code: str = Field(max_length=20, sa_column_args=[ForeignKey("wilayah.code", name="fk_family_kelurahan")])
    kecamatan_code: str = Field(max_length=20)
    latitude: float | None = None
    longitude: float | None = None
    # present / moved / not_found / all_deceased / duplicate (DOMAIN §3)
    existence_status: str = Field(max_length=20, sa_column_kwargs={"server_default": "present"})
    # active / needs_verification / inactive (DOMAIN §4)
    data_status: str = Field(max_length=30, sa_column_kwargs={"server_default": "active"})
    status_reason: str | None = Field(default=None, max_length=100)
    # dtsen_import / local_proposal / citizen_app / dinsos_counter
    source: str = Field(max_length=30)
    desil: int | None = None
    desil_period: str | None = Field(default=None, max_length=20)
    # The first period of the uninterrupted run of the current desil value.
    desil_since: str | None = Field(default=None, max_length=20)
    # verified_at of the newest ground-check outcome applied (older outcomes are ignored).
    last_verified_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # The aggregate version: +1 per event emitted about the family; the ETag of the family.
    version: int = Field(sa_type=BigInteger, sa_column_kwargs={"server_default": text("1")})
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    created_by: str = Field(max_length=200)
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))
    updated_by: str = Field(max_length=200)


class Member(RegistryModel, table=True):
    """A member (individu) by NIK, in one family at a time."""

    __tablename__ = "member"
    __table_args__ = (
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

    id: str = Field(sa_type=IdText(36), primary_key=True)
    family_id: str = Field(sa_type=IdText(36), sa_column_args=[ForeignKey("family.id", name="fk_member_family")])
    nik: str = Field(sa_type=IdText(16))
    # The rule a stored NIK breaks (e.g. nik.bad_day), None when valid: legacy imports keep bad NIKs and flag them.
    nik_issue: str | None = Field(default=None, max_length=50)
    name: str = Field(max_length=200)
    birth_place: str | None = Field(default=None, max_length=100)
    birth_date: date | None = None
    sex: str | None = Field(default=None, max_length=1)
    relationship: str = Field(max_length=30)
    marital_status: str | None = Field(default=None, max_length=30)
    education: str | None = Field(default=None, max_length=30)
    school_status: str | None = Field(default=None, max_length=30)
    occupation: str | None = Field(default=None, max_length=100)
    # Sensitive (UU PDP): only returned to roles holding READ_SENSITIVE.
    disability: str | None = Field(default=None, max_length=20)
    pregnant: bool | None = None
    deceased: bool = Field(sa_column_kwargs={"server_default": false()})
    deceased_date: date | None = None
    death_certificate_no: str | None = Field(default=None, max_length=50)
    # False once the person left the family record (removed, merged); a move keeps the row and changes family_id.
    active: bool = Field(sa_column_kwargs={"server_default": true()})
    source: str = Field(max_length=30)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))


class Flag(RegistryModel, table=True):
    """A data-quality or exclusion flag (DOMAIN §3) on a family or one of its members, one open per kind.

    Open until a person confirms or refutes it, or the system sees the condition disappear (cleared)."""

    __tablename__ = "flag"
    __table_args__ = (
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

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True, sa_column_kwargs={"autoincrement": True})
    family_id: str = Field(sa_type=IdText(36), sa_column_args=[ForeignKey("family.id", name="fk_flag_family")])
    member_id: str | None = Field(
        default=None, sa_type=IdText(36), sa_column_args=[ForeignKey("member.id", name="fk_flag_member")]
    )
    # member_id, or '' for a family-level flag: NULLs never collide in a unique index, '' does.
    subject_key: str = Field(sa_type=IdText(36))
    kind: str = Field(max_length=40)
    # e.g. pns / tni / polri / pejabat / bumn_bumd for excluded_occupation
    sub_kind: str | None = Field(default=None, max_length=40)
    # open / confirmed / refuted / cleared (cleared: the system saw the condition disappear)
    status: str = Field(max_length=20, sa_column_kwargs={"server_default": "open"})
    # system (computed on write) / dukcapil / bkd / ... (external lists)
    source: str = Field(max_length=50)
    detail: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    raised_at: datetime = Field(sa_type=DateTime(timezone=True))
    resolved_by: str | None = Field(default=None, max_length=200)
    resolved_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    resolution_reason: str | None = Field(default=None, max_length=500)


class FamilyHistory(RegistryModel, table=True):
    """One change of a family or one of its members, with the values before and after."""

    __tablename__ = "family_history"
    __table_args__ = (Index("ix_family_history_family", "family_id", "id"),)

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True, sa_column_kwargs={"autoincrement": True})
    family_id: str = Field(sa_type=IdText(36))
    member_id: str | None = Field(default=None, sa_type=IdText(36))
    # The family version this change produced.
    version: int = Field(sa_type=BigInteger)
    action: str = Field(max_length=50)
    actor: str = Field(max_length=200)
    actor_role: str = Field(max_length=30)
    at: datetime = Field(sa_type=DateTime(timezone=True))
    reason: str | None = Field(default=None, max_length=500)
    # Full values (PII included): only authorised roles read it, and the API masks identifiers by default.
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    request_id: str | None = Field(default=None, max_length=100)


class PersonalDataAccess(RegistryModel, table=True):
    """One reveal of personal data (unmasked NIK, No. KK, history): who, when, which family and why."""

    __tablename__ = "personal_data_access"
    __table_args__ = (
        Index("ix_personal_data_access_family", "family_id"),
        Index("ix_personal_data_access_actor", "actor", "at"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True, sa_column_kwargs={"autoincrement": True})
    actor: str = Field(max_length=200)
    actor_role: str = Field(max_length=30)
    at: datetime = Field(sa_type=DateTime(timezone=True))
    family_id: str = Field(sa_type=IdText(36))
    member_id: str | None = Field(default=None, sa_type=IdText(36))
    purpose: str = Field(max_length=300)
    # What was revealed: e.g. "nik,no_kk" or "history".
    fields: str = Field(max_length=200)
    request_id: str | None = Field(default=None, max_length=100)


# The Core tables every set-based query is written against.
family: Table = Family.__table__  # type: ignore[attr-defined]
member: Table = Member.__table__  # type: ignore[attr-defined]
flag: Table = Flag.__table__  # type: ignore[attr-defined]
family_history: Table = FamilyHistory.__table__  # type: ignore[attr-defined]
personal_data_access: Table = PersonalDataAccess.__table__  # type: ignore[attr-defined]

idempotency_key = idempotency_table(metadata)


@cache
def recipient_expr(fam: Any = family) -> ColumnElement[Any]:
    """SQL: the family row's recipient member id; an unset one (bulk-imported families) is the head."""
    # Built once per table: every family write reads it, and building the alias's columns each time cost 7 % of
    # the registry's CPU when creating families. SQL elements are immutable, so statements can share it.
    head = member.alias("head_member")
    head_id = (
        select(func.min(head.c.id))
        .where(head.c.family_id == fam.c.id, head.c.nik == fam.c.head_nik, head.c.active)
        .scalar_subquery()
    )
    return func.coalesce(fam.c.recipient_member_id, head_id)
