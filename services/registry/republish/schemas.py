"""Request and response of `POST /ops/households/republish`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.registry.republish.rules import MAX_FAMILY_IDS
from shared.http.params import PRINTABLE, WILAYAH_FILTER


class RepublishIn(BaseModel):
    """Which families to republish: those of a wilayah (default: the caller's whole scope), optionally only some."""

    model_config = ConfigDict(extra="forbid")

    wilayah: str | None = Field(
        default=None, pattern=WILAYAH_FILTER, description="a kota, kecamatan or kelurahan code (default: your scope)"
    )
    family_ids: list[Annotated[str, Field(min_length=1, max_length=36, pattern=PRINTABLE)]] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_FAMILY_IDS,
        description="only these families (household ids) of the wilayah",
    )


class RepublishOut(BaseModel):
    """What the republish did."""

    id: str = Field(description="the run: its events' change.republish_id, its audit entries' record_id")
    wilayah: str
    families: int = Field(description="families republished (one household.republished event each)")
    batches: int
    missing_family_ids: list[str] = Field(description="requested ids found in no family of the wilayah")
