"""Settings of the verification service (environment prefix TEPAT_VERIFICATION_)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class VerificationSettings(ServiceSettings):
    """Configuration of the verification service."""

    model_config = SettingsConfigDict(env_prefix="TEPAT_VERIFICATION_", extra="ignore")

    service_name: ClassVar[str] = "verification"
