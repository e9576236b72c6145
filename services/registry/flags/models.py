"""Data-quality and exclusion flags (DOMAIN §3), one open flag per (family, member, kind)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Table, text
from sqlmodel import Field

from services.registry.database import RegistryModel
from shared.db.messaging import BigId
from shared.db.types import IdText


class Flag(RegistryModel, table=True):
    """A flag raised on a family or one of its members, open until confirmed, refuted or cleared."""

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


# The Core table every set-based query is written against.
flag: Table = Flag.__table__  # type: ignore[attr-defined]
