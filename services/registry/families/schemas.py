"""Request and response bodies of the families and members API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.registry.families.rules import Disability, InactiveReason, SchoolStatus, Source
from shared.exports.tabular import Column


class Relationship(StrEnum):
    """Relationship to the head of the family, as on the KK."""

    KEPALA_KELUARGA = "kepala_keluarga"
    SUAMI = "suami"
    ISTRI = "istri"
    ANAK = "anak"
    MENANTU = "menantu"
    CUCU = "cucu"
    ORANG_TUA = "orang_tua"
    MERTUA = "mertua"
    FAMILI_LAIN = "famili_lain"
    PEMBANTU = "pembantu"
    LAINNYA = "lainnya"


class MaritalStatus(StrEnum):
    """Marital status as on the KK."""

    BELUM_KAWIN = "belum_kawin"
    KAWIN = "kawin"
    CERAI_HIDUP = "cerai_hidup"
    CERAI_MATI = "cerai_mati"


# Identifiers are taken as plain text and checked by the domain rules, so a problem names e.g. nik.bad_day.
Identifier = str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL cannot store NUL in text: refuse it here (422) rather than fail in the database (500).
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class MemberFields(_Strict):
    """Member attributes that may be set on create and changed by PATCH."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    birth_place: str | None = Field(default=None, max_length=100)
    birth_date: date | None = None
    sex: Literal["L", "P"] | None = None
    relationship: Relationship | None = None
    marital_status: MaritalStatus | None = None
    education: str | None = Field(default=None, max_length=30)
    school_status: SchoolStatus | None = None
    occupation: str | None = Field(default=None, max_length=100)
    disability: Disability | None = None
    pregnant: bool | None = None


class MemberCreate(MemberFields):
    """A new member (individu) of a family."""

    nik: Identifier = Field(max_length=32)
    name: str = Field(min_length=1, max_length=200)
    relationship: Relationship


class MemberPatch(MemberFields):
    """Changes to a member; a NIK change is a correction and is re-validated. Death has its own endpoint."""

    nik: Identifier | None = Field(default=None, max_length=32)


class FamilyFields(_Strict):
    """Family attributes that may be set on create and changed by PATCH."""

    no_kk: Identifier | None = Field(default=None, max_length=32)
    head_nik: Identifier | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, min_length=1, max_length=300)
    rt: str | None = Field(default=None, max_length=10)
    rw: str | None = Field(default=None, max_length=10)
    kelurahan_code: str | None = Field(default=None, max_length=20)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class FamilyCreate(FamilyFields):
    """A new family (keluarga) with its members."""

    no_kk: Identifier = Field(max_length=32)
    head_nik: Identifier = Field(max_length=32)
    address: str = Field(min_length=1, max_length=300)
    rt: str = Field(max_length=10)
    rw: str = Field(max_length=10)
    kelurahan_code: str = Field(max_length=20)
    source: Source = Source.LOCAL_PROPOSAL
    members: list[MemberCreate] = Field(default_factory=list, max_length=50)


class FamilyPatch(FamilyFields):
    """Changes to a family's identifiers or address."""


class MoveMember(_Strict):
    """Move a person to another family (e.g. after marriage or a KK split)."""

    target_family_id: str = Field(min_length=1, max_length=36)
    relationship: Relationship | None = None
    reason: str | None = Field(default=None, max_length=500)


class MarkDeceased(_Strict):
    """A recorded death: date and death certificate (akta kematian) number."""

    deceased_date: date
    death_certificate_no: str = Field(min_length=1, max_length=50)


class DeceasedCorrection(_Strict):
    """Undo a recorded death that was wrong; the reason is kept in the history."""

    reason: str = Field(min_length=10, max_length=500)


class RecipientChange(_Strict):
    """Name another member of the family as its recipient (pengurus pengganti / ahli waris)."""

    member_id: str = Field(min_length=1, max_length=36)
    reason: str = Field(min_length=10, max_length=500)


class Deactivate(_Strict):
    """Make a family inactive (DOMAIN §4 reasons)."""

    reason: InactiveReason
    note: str | None = Field(default=None, max_length=500)


class LookupNik(_Strict):
    """Find the family of an active NIK (the NIK travels in the body, never in the URL)."""

    nik: Identifier = Field(max_length=32)
    reveal: bool = False
    purpose: str | None = Field(default=None, min_length=3, max_length=300)


class LookupKk(_Strict):
    """Find a family by No. KK."""

    no_kk: Identifier = Field(max_length=32)
    reveal: bool = False
    purpose: str | None = Field(default=None, min_length=3, max_length=300)


class MemberOut(BaseModel):
    """A member as the caller may see it (identifiers masked unless revealed; sensitive fields by role)."""

    id: str
    family_id: str
    nik: str
    nik_valid: bool
    name: str = Field(description="Initials for roles without READ_PERSONAL_DATA, unless revealed.")
    birth_place: str | None = Field(description="Only for roles with READ_PERSONAL_DATA, or revealed.")
    birth_date: date | None = Field(description="Only when identifiers are revealed.")
    age: int | None = Field(description="Only for roles with READ_PERSONAL_DATA, or revealed; see age_band.")
    age_band: str | None = Field(default=None, description="0-6, 7-17, 18-59, 60-69 or 70+ (every reader).")
    sex: str | None
    relationship: str
    marital_status: str | None
    education: str | None
    school_status: str | None
    occupation: str | None
    disability: str | None = Field(default=None, description="Only for roles that may read sensitive data.")
    pregnant: bool | None = Field(default=None, description="Only for roles that may read sensitive data.")
    deceased: bool
    deceased_date: date | None
    death_certificate_no: str | None
    active: bool


class FamilyOut(BaseModel):
    """A family as the caller may see it."""

    id: str
    no_kk: str
    head_nik: str
    # The member who receives the family's assistance (the head unless a recipient change named another).
    recipient_member_id: str | None
    address: str | None = Field(description="Only for roles with READ_PERSONAL_DATA, or revealed (RT/RW always).")
    rt: str
    rw: str
    kelurahan_code: str
    kecamatan_code: str
    latitude: float | None
    longitude: float | None
    existence_status: str
    data_status: str
    status_reason: str | None
    source: str
    desil: int | None
    desil_period: str | None
    desil_since: str | None
    version: int
    open_flags: list[str]
    member_count: int
    members: list[MemberOut] | None = None
    created_at: datetime
    updated_at: datetime


class FamilyPage(BaseModel):
    """One page of a family list; pass `next_cursor` back as `cursor` for the next one."""

    items: list[FamilyOut]
    next_cursor: str | None


class CountOut(BaseModel):
    """How many families match."""

    count: int


class HistoryEntry(BaseModel):
    """One recorded change (identifiers masked unless revealed)."""

    id: int
    version: int
    action: str
    actor: str
    actor_role: str
    at: datetime
    reason: str | None
    member_id: str | None
    before: dict[str, object] | None
    after: dict[str, object] | None


# The columns of the family export, headed in Bahasa Indonesia (members stay in the family's JSON).
FAMILY_COLUMNS = (
    Column("id", "ID keluarga"),
    Column("no_kk", "No. KK"),
    Column("head_nik", "NIK kepala keluarga"),
    Column("recipient_member_id", "ID anggota penerima"),
    Column("address", "Alamat"),
    Column("rt", "RT"),
    Column("rw", "RW"),
    Column("kecamatan_code", "Kode kecamatan"),
    Column("kelurahan_code", "Kode kelurahan"),
    Column("latitude", "Lintang", "number"),
    Column("longitude", "Bujur", "number"),
    Column("existence_status", "Status keberadaan"),
    Column("data_status", "Status data"),
    Column("status_reason", "Alasan status"),
    Column("source", "Sumber"),
    Column("desil", "Desil", "number"),
    Column("desil_period", "Periode desil"),
    Column("desil_since", "Desil sejak"),
    Column("member_count", "Jumlah anggota", "number"),
    Column("open_flags", "Tanda terbuka"),
    Column("version", "Versi", "number"),
    Column("created_at", "Dibuat", "datetime"),
    Column("updated_at", "Diperbarui", "datetime"),
)


@dataclass(frozen=True)
class FamilyFilter:
    """Filters of the family list and count."""

    kecamatan: str | None = None
    kelurahan: str | None = None
    desil_min: int | None = None
    desil_max: int | None = None
    data_status: str | None = None
    flag: str | None = None  # an open flag kind, or "any"
    name: str | None = None  # member name contains, case-insensitive
