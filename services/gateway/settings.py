"""Settings of the gateway (environment prefix TEPAT_GATEWAY_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    """Configuration of the gateway: how it reaches the services and how it serves clients."""

    model_config = SettingsConfigDict(env_prefix="TEPAT_GATEWAY_", extra="ignore")

    mode: Literal["embedded", "distributed"] = Field(
        default="embedded",
        description="'embedded' mounts the three services in-process; 'distributed' proxies over HTTP.",
    )
    host: str = Field(default="127.0.0.1")
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Field(default=Path("data"))
    registry_url: str = Field(default="http://registry:8000")
    verification_url: str = Field(default="http://verification:8000")
    disbursement_url: str = Field(default="http://disbursement:8000")
    upstream_timeout_s: float = Field(default=30.0, gt=0)
    auth_issuer: str = Field(default="tepat-dev")
    auth_audience: str = Field(default="tepat")
    auth_jwks_url: str | None = Field(default=None)
    auth_public_key_file: Path | None = Field(default=None)
    log_level: str = Field(default="INFO")
    log_json: bool = Field(default=True)
