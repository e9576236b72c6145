"""Settings of the registry service (environment prefix TEPAT_REGISTRY_)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    """Configuration of the registry service."""

    model_config = SettingsConfigDict(env_prefix="TEPAT_REGISTRY_", extra="ignore")

    service_name: ClassVar[str] = "registry"
