"""Settings of the disbursement service (environment prefix TEPAT_DISBURSEMENT_)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.pdf.settings import SignatorySettings
from shared.settings import ServiceSettings


class DisbursementSettings(ServiceSettings, SignatorySettings):
    """Configuration of the disbursement service."""

    model_config = SettingsConfigDict(env_prefix="TEPAT_DISBURSEMENT_", extra="ignore")

    service_name: ClassVar[str] = "disbursement"

    # The paying office's account in pain.001 files (Dbtr / DbtrAcct / DbtrAgt): the city's treasury account
    # (RKUD) and its bank's BIC. Placeholders until the city's values are configured.
    payer_debtor_name: str = Field(default="Dinas Sosial Kota Padang", min_length=1, max_length=140)
    payer_debtor_account: str = Field(default="0000000000", pattern=r"^[0-9A-Za-z]{1,34}$")
    payer_debtor_agent_bic: str = Field(default="BRINIDJA", pattern=r"^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
