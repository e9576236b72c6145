"""Request and response bodies of proposals (usulan) and muskel records."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.verification.attachments.schemas import AttachmentOut
from services.verification.proposal_records import ProposalKind
from services.verification.proposals.rules import Channel
from shared.events.household import WILAYAH_KELURAHAN
from shared.http.params import NO_NUL


class ProposalIn(BaseModel):
    """A new proposal (draft). Families already registered are named by household_id, new ones by kelurahan."""

    model_config = ConfigDict(extra="forbid")

    kind: ProposalKind
    channel: Channel
    household_id: str | None = Field(pattern=NO_NUL, default=None, min_length=1, max_length=100)
    kelurahan_code: str | None = Field(default=None, pattern=WILAYAH_KELURAHAN)
    member_id: str | None = Field(
        pattern=NO_NUL, default=None, min_length=1, max_length=36, description="recipient_change: the new recipient."
    )
    note: str | None = Field(
        pattern=NO_NUL, default=None, max_length=2000, description="No names or NIK: codes and facts only."
    )


class ProposalActionIn(BaseModel):
    """Extra input of an action: the muskel for 'discuss', a reason for 'muskel_reject', a comment for 'return'."""

    model_config = ConfigDict(extra="forbid")

    muskel_id: int | None = None
    reason_code: str | None = Field(pattern=NO_NUL, default=None, min_length=1, max_length=40)
    comment: str | None = Field(pattern=NO_NUL, default=None, min_length=1, max_length=2000)


class ProposalOut(BaseModel):
    """A proposal."""

    id: int
    kind: str
    channel: str
    household_id: str | None
    member_id: str | None = None
    kecamatan_code: str
    kelurahan_code: str
    status: str
    allowed_actions: list[str]
    cycle: str | None
    note: str | None
    reason_code: str | None
    review_comment: str | None
    muskel_id: int | None
    ground_check_id: int | None
    batch_id: int | None
    created_by: str
    created_at: datetime
    submitted_at: datetime | None
    verified_at: datetime | None
    version: int


class ProposalPage(BaseModel):
    """A page of proposals and the total in the caller's scope."""

    total: int
    items: list[ProposalOut]


class MuskelIn(BaseModel):
    """A kelurahan deliberation (musyawarah kelurahan)."""

    model_config = ConfigDict(extra="forbid")

    kelurahan_code: str = Field(pattern=WILAYAH_KELURAHAN)
    held_on: date


class MuskelOut(BaseModel):
    """A muskel record and its attached documents."""

    id: int
    kecamatan_code: str
    kelurahan_code: str
    held_on: date
    recorded_by: str
    minutes_signed_at: datetime | None
    attachments: list[AttachmentOut]
