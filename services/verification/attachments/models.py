"""Document references (muskel minutes, by-name-by-address lists): metadata only, never the files."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Table, UniqueConstraint
from sqlmodel import Field

from services.verification.database import VerificationModel
from shared.db.messaging import BigId


class Attachment(VerificationModel, table=True):
    """A document attached to a muskel or a batch, by the hash of its bytes; one per owner and role."""

    __tablename__ = "attachment"
    __table_args__ = (UniqueConstraint("owner_kind", "owner_id", "role", name="uq_attachment_owner_role"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId, sa_column_kwargs={"autoincrement": True})
    owner_kind: str = Field(max_length=20)  # muskel | batch
    owner_id: int = Field(sa_type=BigInteger)
    role: str = Field(max_length=20)  # minutes | list
    sha256: str = Field(max_length=64)
    size_bytes: int = Field(sa_type=BigInteger)
    media_type: str = Field(max_length=100)
    signed_by: str | None = Field(default=None, max_length=100)
    attached_by: str = Field(max_length=100)
    attached_at: datetime = Field(sa_type=DateTime(timezone=True))


# The Core table the set-based queries are written against.
attachment: Table = Attachment.__table__  # type: ignore[attr-defined]
