"""The wilayah table: the packaged Kemendagri reference, seeded by a migration, target of address foreign keys."""

from __future__ import annotations

from sqlalchemy import Index, Table, Text
from sqlmodel import Field

from services.registry.database import RegistryModel


class Wilayah(RegistryModel, table=True):
    """One area of the Kemendagri reference (kota, kecamatan or kelurahan) and the names it is also known by."""

    __tablename__ = "wilayah"
    __table_args__ = (Index("ix_wilayah_parent_code", "parent_code"),)

    code: str = Field(max_length=20, primary_key=True)
    name: str = Field(max_length=200)
    tingkat: str = Field(max_length=20)
    parent_code: str | None = Field(default=None, max_length=20)
    kode_bps: str | None = Field(default=None, max_length=20)
    aliases: str = Field(sa_type=Text, sa_column_kwargs={"server_default": ""})


# The Core table every query is written against.
wilayah: Table = Wilayah.__table__  # type: ignore[attr-defined]
