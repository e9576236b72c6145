"""Request bodies shared by the tahap and payment-line use cases."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.http.params import NO_NUL


class ReasonIn(BaseModel):
    """Why (cancel, release, resolve): kept with who did it."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(pattern=NO_NUL, min_length=3, max_length=500)
