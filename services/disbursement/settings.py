"""Settings of the disbursement service (environment prefix TEPAT_DISBURSEMENT_)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class DisbursementSettings(ServiceSettings):
    """Configuration of the disbursement service."""

    model_config = SettingsConfigDict(env_prefix="TEPAT_DISBURSEMENT_", extra="ignore")

    service_name: ClassVar[str] = "disbursement"
