"""Settings shared by every Tepat service (pydantic-settings, one env prefix per service)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

BusKind = Literal["local", "kafka"]


class ServiceSettings(BaseSettings):
    """Base settings of a service that owns a database schema and talks over the event bus.

    Defaults describe the embedded single-machine mode (SQLite file + in-process bus); the distributed
    mode (PostgreSQL + Kafka) is pure configuration through the environment.
    """

    model_config = SettingsConfigDict(env_prefix="TEPAT_", extra="ignore", env_file=None)

    service_name: ClassVar[str] = "service"

    data_dir: Path = Field(default=Path("data"), description="Folder for SQLite files and dev keys (embedded).")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; default is a SQLite file <data_dir>/<service>.db.",
    )
    db_schema: str | None = Field(
        default=None, description="PostgreSQL schema owned by the service (default: the service name)."
    )
    db_pool_size: int = Field(default=10, ge=1, le=200)
    bus: BusKind = Field(default="local", description="'local' (in-process, embedded) or 'kafka'.")
    kafka_bootstrap: str = Field(default="127.0.0.1:19092", description="Kafka bootstrap servers.")
    consumer_group: str | None = Field(default=None, description="Kafka consumer group (default: service name).")
    consumer_max_retries: int = Field(default=3, ge=0, le=20)
    consumer_retry_backoff_ms: int = Field(default=200, ge=0)
    relay_poll_interval_ms: int = Field(default=500, ge=10, description="Polling fallback of the relay.")
    relay_batch_size: int = Field(default=1000, ge=1, le=50_000)
    auto_migrate: bool | None = Field(
        default=None, description="Migrate at start-up (default: yes on SQLite, no on PostgreSQL)."
    )
    run_workers: bool = Field(default=True, description="Run the outbox relay and consumers in the app.")
    auth_issuer: str = Field(default="tepat-dev", description="Expected JWT issuer.")
    auth_audience: str = Field(default="tepat", description="Expected JWT audience.")
    auth_jwks_url: str | None = Field(default=None, description="JWKS URL (production).")
    auth_public_key_file: Path | None = Field(
        default=None, description="PEM public key of the dev issuer (default: <data_dir>/dev-jwt-public.pem)."
    )
    audit_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM) that signs audit checkpoints, created on first use "
        "(default: <data_dir>/audit/<service>-audit-ed25519.pem). Never stored in the database.",
    )
    audit_sign_command: str | None = Field(
        default=None,
        description="KMS/HSM-style key handle instead of the key file: a command that reads the checkpoint "
        "message on stdin and prints its base64 Ed25519 signature (then AUDIT_PUBLIC_KEY_FILE is required).",
    )
    audit_public_key_file: Path | None = Field(
        default=None,
        description="Ed25519 public key (PEM) that verifies checkpoints (default: <audit key file>.pub).",
    )
    audit_checkpoint_file: Path | None = Field(
        default=None,
        description="Append-only file signed checkpoints are published to "
        "(default: <data_dir>/audit/<service>-checkpoints.jsonl).",
    )
    audit_checkpoint_every: int = Field(
        default=1000, ge=0, description="Sign a checkpoint every N audit entries (0: only on schedule / CLI)."
    )
    export_job_rows: int = Field(
        default=50_000, ge=1, description="An export of more rows than this runs as a job (file + download link)."
    )
    exports_dir: Path | None = Field(
        default=None, description="Folder of the files export jobs write (default: <data_dir>/exports)."
    )
    log_level: str = Field(default="INFO")
    log_json: bool = Field(default=True)
    nik_digest_key: SecretStr | None = Field(
        default=None,
        description="Secret of the NIK digests registry and verification share (the same value in both; Compose "
        "requires it). Default: a dev key in <data_dir>/nik-digest.key, created on first use.",
    )

    @property
    def schema_name(self) -> str:
        """The PostgreSQL schema this service owns."""
        return self.db_schema or self.service_name

    @property
    def is_postgres(self) -> bool:
        """True when the service's database is PostgreSQL."""
        return self.resolved_database_url.startswith("postgresql")

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / (self.service_name + '.db')}"

    @property
    def public_key_path(self) -> Path:
        """Where the dev issuer's public key is read from."""
        return self.auth_public_key_file or self.data_dir / "dev-jwt-public.pem"

    @property
    def audit_key_path(self) -> Path:
        """Where the audit checkpoint signing key is kept."""
        return self.audit_key_file or self.data_dir / "audit" / f"{self.service_name}-audit-ed25519.pem"

    @property
    def audit_public_key_path(self) -> Path:
        """Where the audit checkpoint verification key is read from."""
        if self.audit_public_key_file:
            return self.audit_public_key_file
        return self.audit_key_path.with_name(self.audit_key_path.name + ".pub")

    def nik_digest_secret(self) -> bytes:
        """The NIK digest key: the configured secret, else the dev key file (see `shared.privacy.digest`)."""
        if self.nik_digest_key is not None:
            return self.nik_digest_key.get_secret_value().encode()
        from shared.privacy.digest import load_or_create_key

        return load_or_create_key(self.data_dir / "nik-digest.key")

    @property
    def exports_path(self) -> Path:
        """Where export jobs write their files."""
        return self.exports_dir or self.data_dir / "exports"

    @property
    def audit_checkpoint_path(self) -> Path:
        """The append-only checkpoint file."""
        return self.audit_checkpoint_file or self.data_dir / "audit" / f"{self.service_name}-checkpoints.jsonl"
