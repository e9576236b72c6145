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
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, description="Largest request body accepted.")
    max_upload_bytes: int = Field(
        default=512 * 1024 * 1024, ge=1024, description="Largest body on import routes (national extracts)."
    )
    rate_limit_per_minute: int = Field(default=1200, ge=1, description="Requests per client per minute.")
    rate_limit_burst: int = Field(default=200, ge=1, description="Requests a client may send at once.")
    write_rate_limit_per_minute: int = Field(
        default=300, ge=1, description="Writes (POST/PUT/PATCH/DELETE) per client per route per minute."
    )
    dci_rate_limit_per_minute: int = Field(
        default=15000, ge=1, description="DCI requests (/dci/...) per partner (token subject) per minute."
    )
    dci_rate_limit_burst: int = Field(default=500, ge=1, description="DCI requests a partner may send at once.")
    dci_max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest DCI request body (a message holds at most 100 requests)."
    )
    address_rate_limit_per_minute: int = Field(
        default=6000,
        ge=1,
        description="Requests per client address per minute, counted before authentication (an office behind one "
        "NAT address shares it).",
    )
    address_rate_limit_burst: int = Field(default=1000, ge=1, description="Requests one address may send at once.")
    anonymous_rate_limit_per_minute: int = Field(
        default=60,
        ge=1,
        description="Unauthenticated requests (missing or bad token, every /oauth/token call) per address per minute.",
    )
    anonymous_rate_limit_burst: int = Field(default=20, ge=1, description="Unauthenticated requests at once.")
    oauth_lockout_failures: int = Field(
        default=5, ge=1, description="Wrong secrets in a row after which a client id is locked out."
    )
    oauth_lockout_s: int = Field(default=900, ge=1, description="How long a client id stays locked out.")
    max_header_bytes: int = Field(
        default=16 * 1024, ge=1024, description="Largest request head (all header names and values) before a 431."
    )
    max_header_count: int = Field(default=100, ge=10, description="Most request headers before a 431.")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed to call the API.")
    oauth_clients_file: Path | None = Field(
        default=None, description="JSON file of OAuth2 client-credentials clients (id, secret sha256, role, wilayah)."
    )
    token_ttl_s: int = Field(default=3600, ge=60, description="Lifetime of tokens issued to system clients.")
    demo_families: int = Field(
        default=600,
        ge=0,
        le=20_000,
        description="Families of the demo city `tepat serve` loads on first start with an empty data folder (0: none).",
    )
    status_check_per_minute: int = Field(
        default=5, ge=1, description="Public status-check (Cek Bansos) lookups per client address per minute."
    )
    status_check_burst: int = Field(default=3, ge=1, description="Status-check lookups one address may make at once.")
    status_check_min_ms: int = Field(
        default=1500,
        ge=0,
        le=30_000,
        description="Every status-check answer takes at least this long, so an unknown person is not answered sooner.",
    )
    status_check_key_file: Path | None = Field(
        default=None,
        description="Private key the gateway signs its status-check token with (default: the data folder's dev key).",
    )
    status_check_wilayah: str = Field(default="13.71", description="Wilayah of the gateway's status-check token.")
    log_level: str = Field(default="INFO")
    log_json: bool = Field(default=True)
