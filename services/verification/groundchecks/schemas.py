"""Request and response bodies of officers and ground checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.verification.attachments.schemas import SHA256
from services.verification.groundchecks.rules import NotEligibleReason, Outcome
from shared.exports.tabular import Column
from shared.http.params import NO_NUL
from shared.identifiers import validate_nik

WILAYAH_ANY = r"^\d{2}\.\d{2}(\.\d{2}(\.\d{4})?)?$"


class OfficerIn(BaseModel):
    """A field or office officer known to verification (registered by the kepala dinas, never by the officer)."""

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(pattern=NO_NUL, min_length=1, max_length=100, description="The officer's token subject.")
    role: Literal["tksk", "psm", "pendamping_pkh", "verifikator", "kepala_dinas", "operator_kelurahan", "lurah"]
    wilayah_code: str = Field(pattern=WILAYAH_ANY)
    nik: str | None = Field(
        default=None,
        min_length=16,
        max_length=16,
        description="The officer's NIK, sent only here: verification keeps its keyed digest and a masked form, and "
        "finds the officer's own family by it in the registry's data (the four-eyes rule). Omitted on an update: "
        "the recorded one stays. An officer without one may not approve ground checks.",
    )
    no_registered_family: bool = Field(
        default=False,
        description="The dinas checked the registry and the officer's NIK is in no registered family; refused "
        "while the registry's data shows a family with it. Without a family found by the NIK or this declaration "
        "the officer's family is unknown and the officer may not approve ground checks.",
    )
    active: bool = True

    @field_validator("nik")
    @classmethod
    def _valid_nik(cls, nik: str | None) -> str | None:
        if nik is not None:
            validate_nik(nik)  # the IdentifierError (a ValueError) names the rule the NIK breaks
        return nik


class OfficerOut(BaseModel):
    """An officer."""

    subject: str
    role: str
    wilayah_code: str
    nik_masked: str | None = Field(description="The officer's NIK, masked (the NIK itself is not kept).")
    no_registered_family: bool
    active: bool


class Assets(BaseModel):
    """Assets of the family (counts and sizes only)."""

    model_config = ConfigDict(extra="forbid")

    motorbike: int = Field(default=0, ge=0, le=50)
    car: int = Field(default=0, ge=0, le=50)
    land_m2: float = Field(default=0, ge=0, le=10_000_000)
    livestock: int = Field(default=0, ge=0, le=10_000)
    gold_gram: float = Field(default=0, ge=0, le=100_000)


class Questionnaire(BaseModel):
    """Socio-economic profile taken at the visit (DOMAIN §3)."""

    model_config = ConfigDict(extra="forbid")

    house_ownership: Literal["own", "rent", "family", "official", "free_use", "other"]
    floor_area_m2: float = Field(gt=0, le=5000)
    floor_type: Literal["ceramic", "tile", "cement", "wood", "bamboo", "earth", "other"]
    wall_type: Literal["brick", "wood", "bamboo", "zinc", "board", "other"]
    roof_type: Literal["concrete", "clay_tile", "zinc", "asbestos", "wood", "thatch", "other"]
    drinking_water: Literal["piped", "bottled", "protected_well", "unprotected_well", "spring", "river", "rain"]
    sanitation: Literal["own_toilet", "shared_toilet", "public_toilet", "none"]
    lighting: Literal["pln_metered", "pln_unmetered", "non_pln", "none"] = "pln_metered"
    electricity_va: Literal[0, 450, 900, 1300, 2200, 3500, 5500] = Field(description="0 = no PLN connection")
    electricity_subsidised: bool = False
    assets: Assets = Field(default_factory=Assets)


class Gps(BaseModel):
    """Where the visit took place."""

    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=10_000)


class PhotoRef(BaseModel):
    """A photo kept elsewhere, by content hash."""

    model_config = ConfigDict(extra="forbid")

    sha256: str = Field(pattern=SHA256)
    media_type: Literal["image/jpeg", "image/png", "image/webp", "image/heic"]


class VisitIn(BaseModel):
    """What the assignee reports after the visit."""

    model_config = ConfigDict(extra="forbid")

    visited_at: datetime
    questionnaire: Questionnaire
    gps: Gps
    photos: list[PhotoRef] = Field(min_length=1, max_length=20)
    outcome: Outcome
    reason: NotEligibleReason | None = None

    @model_validator(mode="after")
    def _reason_matches_outcome(self) -> Self:
        if self.outcome == Outcome.TIDAK_LAYAK and self.reason is None:
            raise ValueError("a 'tidak_layak' outcome needs a reason code")
        if self.outcome == Outcome.LAYAK and self.reason is not None:
            raise ValueError("a 'layak' outcome takes no reason code")
        if self.visited_at.tzinfo is None:
            raise ValueError("visited_at needs a timezone offset")
        return self


class AssignIn(BaseModel):
    """Whom to give the check to."""

    model_config = ConfigDict(extra="forbid")

    officer_subject: str = Field(pattern=NO_NUL, min_length=1, max_length=100)


class CommentIn(BaseModel):
    """Why a check is returned for rework."""

    model_config = ConfigDict(extra="forbid")

    comment: str = Field(pattern=NO_NUL, min_length=1, max_length=2000)


class CancelIn(BaseModel):
    """Why a check is cancelled."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(pattern=NO_NUL, min_length=1, max_length=200)


class CheckOut(BaseModel):
    """A ground check."""

    id: int
    household_id: str | None
    kecamatan_code: str
    kelurahan_code: str
    reason: str
    origin_ref: str | None
    campaign_id: int | None
    status: str
    overdue: bool
    assigned_to: str | None
    assigned_role: str | None
    due_at: datetime
    created_at: datetime
    visited_at: datetime | None
    submitted_by: str | None
    outcome: str | None
    outcome_reason: str | None
    questionnaire: dict[str, Any] | None
    gps: Gps | None
    photos: list[PhotoRef] | None
    evidence_hash: str | None
    decided_at: datetime | None
    decided_by: str | None
    review_comment: str | None
    returned_count: int
    cancel_reason: str | None
    version: int


class CheckPage(BaseModel):
    """A page of checks and the total matching the filters within the caller's scope."""

    total: int
    items: list[CheckOut]


class WorkloadRow(BaseModel):
    """Checks of one officer by state."""

    officer: str | None
    role: str | None
    counts: dict[str, int]
    overdue: int


# The columns of the ground-check export, headed in Bahasa Indonesia (the questionnaire as JSON, photos by hash).
CHECK_COLUMNS = (
    Column("id", "ID cek lapangan", "number"),
    Column("household_id", "ID keluarga"),
    Column("kecamatan_code", "Kode kecamatan"),
    Column("kelurahan_code", "Kode kelurahan"),
    Column("reason", "Alasan cek"),
    Column("origin_ref", "Rujukan asal"),
    Column("campaign_id", "ID kampanye", "number"),
    Column("status", "Status"),
    Column("overdue", "Terlambat", "boolean"),
    Column("assigned_to", "Petugas"),
    Column("assigned_role", "Peran petugas"),
    Column("due_at", "Batas waktu", "datetime"),
    Column("created_at", "Dibuat", "datetime"),
    Column("visited_at", "Dikunjungi", "datetime"),
    Column("submitted_by", "Dilaporkan oleh"),
    Column("outcome", "Hasil"),
    Column("outcome_reason", "Alasan hasil"),
    Column("questionnaire", "Kuesioner"),
    Column("gps_lat", "Lintang GPS", "number"),
    Column("gps_lon", "Bujur GPS", "number"),
    Column("photos", "Foto (SHA-256)"),
    Column("evidence_hash", "Hash bukti"),
    Column("decided_at", "Diputuskan", "datetime"),
    Column("decided_by", "Diputuskan oleh"),
    Column("review_comment", "Catatan pemeriksa"),
    Column("returned_count", "Dikembalikan (kali)", "number"),
    Column("cancel_reason", "Alasan batal"),
    Column("version", "Versi", "number"),
)


def check_cells(out: CheckOut) -> dict[str, Any]:
    """A check as one export row: GPS in two columns, photos as their hashes."""
    return {
        **out.model_dump(exclude={"gps", "photos"}),
        "gps_lat": out.gps.lat if out.gps else None,
        "gps_lon": out.gps.lon if out.gps else None,
        "photos": [p.sha256 for p in out.photos or ()],
    }
