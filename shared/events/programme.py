"""Events of programme rule versions (on disbursement.payment.v1, keyed by programme code): other services learn
each programme's desil band from them instead of keeping a second list of thresholds."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.events.catalog import register
from shared.events.topics import DISBURSEMENT_PAYMENT


class ProgrammeEventType(StrEnum):
    """Event types about programmes."""

    RULE_PUBLISHED = "programme.rule_published"


class ProgrammeRulePublished(BaseModel):
    """A new rule version of a programme: its desil band and when it is in force (aggregate_version = version)."""

    model_config = ConfigDict(extra="ignore")

    programme_code: str = Field(min_length=1, max_length=50)
    version: int = Field(ge=1)
    desil_min: int = Field(ge=1, le=10)
    desil_max: int = Field(ge=1, le=10)
    effective_from: date
    effective_to: date | None = None


register(DISBURSEMENT_PAYMENT, ProgrammeEventType.RULE_PUBLISHED.value, ProgrammeRulePublished)
