"""A reference to a document kept elsewhere (DMS, object store): content hash, size and media type."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.http.params import NO_NUL

SHA256 = r"^[0-9a-f]{64}$"
MEDIA_TYPE = r"^[a-z]+/[a-z0-9.+-]+$"


class DocumentRef(BaseModel):
    """Metadata of an attached document; the file itself is not stored here."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["minutes", "list"] = Field(description="minutes = signed berita acara; list = by-name-by-address")
    sha256: str = Field(pattern=SHA256, description="Lower-case hex sha256 of the file content.")
    size_bytes: int = Field(gt=0, le=500 * 1024 * 1024)
    media_type: str = Field(pattern=MEDIA_TYPE, max_length=100, examples=["application/pdf"])
    signed_by: str | None = Field(pattern=NO_NUL, default=None, max_length=100, description="Who signed (minutes).")


class AttachmentOut(BaseModel):
    """An attached document reference."""

    role: str
    sha256: str
    size_bytes: int
    media_type: str
    signed_by: str | None
    attached_by: str
    attached_at: datetime
