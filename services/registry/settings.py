"""Settings of the registry service (environment prefix TEPAT_REGISTRY_)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    """Configuration of the registry service."""

    model_config = SettingsConfigDict(env_prefix="TEPAT_REGISTRY_", extra="ignore")

    service_name: ClassVar[str] = "registry"

    # DCI callbacks (on-search, notify, …) to partners' registered URIs; see services/registry/dci/delivery.py.
    dci_signing_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM) that signs DCI callbacks, created on first use "
        "(default: <data_dir>/dci/registry-dci-ed25519.pem; the public half next to it as .pub).",
    )
    dci_callback_allowed_addresses: list[str] = Field(
        default_factory=list,
        description="Private, loopback or link-local addresses callbacks may still reach (tests: 127.0.0.1); "
        "every other such address is refused.",
    )
    dci_callback_timeout_s: float = Field(default=10.0, gt=0, description="Timeout of one callback attempt.")
    dci_callback_max_response_bytes: int = Field(default=65536, ge=1024, description="Largest answer read.")
    dci_callback_max_attempts: int = Field(default=8, ge=1, description="Attempts before a callback is dead.")
    dci_callback_backoff_s: float = Field(default=5.0, gt=0, description="Wait after the first failed attempt.")
    dci_callback_backoff_cap_s: float = Field(default=3600.0, gt=0, description="Longest wait between attempts.")
    dci_callback_batch: int = Field(default=200, ge=1, description="Callbacks sent per delivery run.")
    dci_callback_concurrency: int = Field(
        default=8, ge=1, le=64, description="Callbacks sent at the same time (never two of one family)."
    )

    @property
    def dci_signing_key_path(self) -> Path:
        """Where the key that signs DCI callbacks is kept."""
        return self.dci_signing_key_file or self.data_dir / "dci" / "registry-dci-ed25519.pem"
