"""Payload schemas of disbursement.payment.v1 (PII-free: ids, codes, statuses)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.events.catalog import register
from shared.events.topics import DISBURSEMENT_PAYMENT


class PaymentEventType(StrEnum):
    """Event types on disbursement.payment.v1 that other services rely on."""

    LINE_STATUS_CHANGED = "payment.line_status_changed"
    ENROLMENT_CHANGED = "enrolment.changed"


class PaymentLineStatusCode(StrEnum):
    """States of a payment line (penyaluran, DOMAIN §4)."""

    PLANNED = "planned"
    SPM = "spm"
    SP2D = "sp2d"
    AT_PAYER = "at_payer"
    PAID = "paid"
    FAILED = "failed"
    RETURNED = "returned"
    DISPUTED = "disputed"
    RECOVERED = "recovered"
    # Frozen line waiting for a decision (family deactivated / excluded after the list was generated).
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"


class PaymentFailureReason(StrEnum):
    """Why a payer could not pay a line."""

    ACCOUNT_PROBLEM = "account_problem"
    NOT_FOUND = "not_found"
    DECEASED_WITHOUT_HEIR = "deceased_without_heir"
    NOT_COLLECTED = "not_collected"


class PaymentLineStatus(BaseModel):
    """A payment line changed status (data of payment.line_status_changed)."""

    model_config = ConfigDict(extra="ignore")

    household_id: str = Field(min_length=1, max_length=100)
    programme_code: str = Field(min_length=1, max_length=50)
    tahap_id: str = Field(min_length=1, max_length=100)
    tahap_label: str | None = Field(default=None, max_length=40, description="The tahap's label, e.g. 2026-I.")
    line_id: str = Field(min_length=1, max_length=100)
    status: PaymentLineStatusCode
    failure_reason: PaymentFailureReason | None = None


class EnrolmentStatus(StrEnum):
    """A family's enrolment (kepesertaan) in a programme."""

    ACTIVE = "active"
    ENDED = "ended"


class EnrolmentChanged(BaseModel):
    """A family joined or left a programme with an approved tahap (data of enrolment.changed)."""

    model_config = ConfigDict(extra="ignore")

    household_id: str = Field(min_length=1, max_length=100)
    programme_code: str = Field(min_length=1, max_length=50)
    tahap_id: str = Field(min_length=1, max_length=100)
    status: EnrolmentStatus
    reason: str = Field(max_length=40, description="newly_eligible, or why the family left (desil_rose, ...).")


register(DISBURSEMENT_PAYMENT, PaymentEventType.LINE_STATUS_CHANGED.value, PaymentLineStatus)
register(DISBURSEMENT_PAYMENT, PaymentEventType.ENROLMENT_CHANGED.value, EnrolmentChanged)
