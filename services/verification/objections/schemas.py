"""Request and response bodies of objections (sanggah)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.verification.groundchecks.schemas import Gps, PhotoRef
from services.verification.objections.rules import ObjectionGrounds
from shared.events.household import WILAYAH_KELURAHAN
from shared.http.params import NO_NUL


class ObjectionIn(BaseModel):
    """A resident's objection; the objector's own kelurahan is stated (and must be the family's)."""

    model_config = ConfigDict(extra="forbid")

    household_id: str = Field(pattern=NO_NUL, min_length=1, max_length=100)
    objector_kelurahan_code: str = Field(pattern=WILAYAH_KELURAHAN)
    grounds: ObjectionGrounds
    photo: PhotoRef
    gps: Gps


class DecisionIn(BaseModel):
    """Dinsos' decision after verification."""

    model_config = ConfigDict(extra="forbid")

    result: Literal["upheld", "rejected"]
    reason: str | None = Field(pattern=NO_NUL, default=None, min_length=1, max_length=40)
    note: str | None = Field(pattern=NO_NUL, default=None, max_length=2000)


class ObjectionOut(BaseModel):
    """An objection."""

    id: int
    household_id: str
    kecamatan_code: str
    kelurahan_code: str
    grounds: str
    photo_sha256: str
    photo_media_type: str
    gps_lat: float
    gps_lon: float
    status: str
    received_at: datetime
    due_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None
    ground_check_id: int | None
    removal_proposal_id: int | None
    version: int


class ObjectionPage(BaseModel):
    """A page of objections and the total in the caller's scope."""

    total: int
    items: list[ObjectionOut]


class LapseResult(BaseModel):
    """What a run of the lapse job did."""

    lapsed: int
