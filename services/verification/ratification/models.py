"""Ratification batches (pengesahan) of eligible proposals of one monthly cycle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Table, text
from sqlmodel import Field

from services.verification.database import VerificationModel
from shared.db.messaging import BigId


class RatificationBatch(VerificationModel, table=True):
    """One batch of a cycle's eligible proposals of one wilayah, from preparation to sending."""

    __tablename__ = "ratification_batch"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId, sa_column_kwargs={"autoincrement": True})
    cycle: str = Field(max_length=7)
    wilayah_code: str = Field(max_length=20)
    status: str = Field(max_length=20)
    proposal_count: int
    prepared_by: str = Field(max_length=100)
    prepared_at: datetime = Field(sa_type=DateTime(timezone=True))
    submitted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    ratified_by: str | None = Field(default=None, max_length=100)
    ratified_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    sent_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    version: int = Field(sa_column_kwargs={"server_default": text("1")})


# The Core table the set-based queries are written against.
ratification_batch: Table = RatificationBatch.__table__  # type: ignore[attr-defined]
