"""Request and response bodies of the evidence API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel


class Purpose(StrEnum):
    """What a file documents."""

    VISIT_PHOTO = "visit_photo"
    OBJECTION_PHOTO = "objection_photo"
    MINUTES = "minutes"
    LIST = "list"


class EvidenceOut(BaseModel):
    """A stored evidence file: reference it by its sha256 in visits, sanggah and attachments."""

    sha256: str
    size_bytes: int
    media_type: str
    purpose: Purpose
    kelurahan_code: str
    gps_lat: float | None
    gps_lon: float | None
    uploaded_by: str
    uploaded_at: datetime
    url: str
