"""Request and response bodies of ratification batches."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.verification.attachments.schemas import AttachmentOut


class BatchIn(BaseModel):
    """Collect the eligible proposals of one monthly cycle."""

    model_config = ConfigDict(extra="forbid")

    cycle: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])


class BatchOut(BaseModel):
    """A ratification batch."""

    id: int
    cycle: str
    wilayah_code: str
    status: str
    allowed_actions: list[str]
    proposal_count: int
    prepared_by: str
    prepared_at: datetime
    submitted_at: datetime | None
    ratified_by: str | None
    ratified_at: datetime | None
    sent_at: datetime | None
    attachments: list[AttachmentOut]
    version: int
