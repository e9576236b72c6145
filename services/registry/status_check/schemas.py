"""Bodies of the status-check lookup."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class LookupIn(BaseModel):
    """A citizen's query as the gateway passes it on: a name with either a kelurahan code or a NIK."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=3, max_length=200)
    kelurahan_code: str | None = Field(default=None, pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")
    nik: str | None = Field(default=None, pattern=r"^\d{16}$")

    @model_validator(mode="after")
    def _one_key(self) -> Self:
        if (self.kelurahan_code is None) == (self.nik is None):
            raise ValueError("give either kelurahan_code or nik with the name")
        return self


class LookupOut(BaseModel):
    """The families the query names (at most a handful: a name is rarely repeated in one kelurahan)."""

    household_ids: list[str]
