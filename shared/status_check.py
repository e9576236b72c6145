"""The public status check's contract between the gateway and the services that answer it (registry: which
families a query names; disbursement: their programmes and payment status)."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class StatusQuery(BaseModel):
    """What a citizen enters: the name with the kelurahan code, or the name with the NIK."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=3, max_length=200, description="Full name as on the KTP")
    kelurahan_code: str | None = Field(
        default=None, pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$", examples=["13.71.01.1001"]
    )
    nik: str | None = Field(default=None, pattern=r"^\d{16}$")

    @model_validator(mode="after")
    def _one_key(self) -> Self:
        if (self.kelurahan_code is None) == (self.nik is None):
            raise ValueError("give either kelurahan_code or nik with the name")
        return self


class ProgrammeStatus(BaseModel):
    """A programme whose current tahap lists the family, as a citizen may see it."""

    programme_code: str
    tahap: str
    payment_status: str = Field(description="scheduled, at_payer, paid, failed or on_hold")


class StatusAnswer(BaseModel):
    """Always this shape: an unknown person and a known non-beneficiary both get an empty list."""

    programmes: list[ProgrammeStatus]
