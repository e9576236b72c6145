"""Settings of the verification service (environment prefix TEPAT_VERIFICATION_)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from shared.events.complaint import ComplaintCategory
from shared.events.vocabulary import FLAG_KINDS, FlagKind
from shared.pdf.settings import SignatorySettings
from shared.settings import ServiceSettings

if TYPE_CHECKING:
    from shared.runtime.scheduler import JobContext
    from shared.runtime.service import ServiceRuntime

# Days the office has to close a complaint, by category (payment is urgent: a family is waiting for its money).
DEFAULT_COMPLAINT_SLA_DAYS: dict[str, int] = {
    ComplaintCategory.EXCLUSION: 14,
    ComplaintCategory.INCLUSION: 14,
    ComplaintCategory.PAYMENT: 5,
    ComplaintCategory.DATA_ERROR: 10,
    ComplaintCategory.OFFICER_CONDUCT: 7,
    ComplaintCategory.OTHER: 14,
}


class VerificationSettings(ServiceSettings, SignatorySettings):
    """Configuration of the verification service."""

    model_config = SettingsConfigDict(env_prefix="TEPAT_VERIFICATION_", extra="ignore")

    service_name: ClassVar[str] = "verification"

    proposal_cutoff_day: int = Field(
        default=14, ge=1, le=28, description="Day of month after which a submitted usulan joins next month's cycle."
    )
    direct_entry_channels: list[str] = Field(
        default_factory=lambda: ["citizen_app", "digital_agent"],
        description="Channels whose usulan skip the muskel and enter at 'complete' when submitted.",
    )
    objection_due_days: int = Field(default=14, ge=1, le=90, description="Days Dinsos has to verify a sanggah.")
    ground_check_due_days: int = Field(default=14, ge=1, le=180, description="Days an officer has for a visit.")
    complaint_sla_days: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_COMPLAINT_SLA_DAYS),
        description="Days to close a complaint (pengaduan), by category; a category not named keeps its default.",
    )

    @field_validator("complaint_sla_days")
    @classmethod
    def _every_category(cls, days: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(days) - set(DEFAULT_COMPLAINT_SLA_DAYS))
        if unknown:
            raise ValueError(f"unknown complaint categories {unknown}: known are {sorted(DEFAULT_COMPLAINT_SLA_DAYS)}")
        if any(not 1 <= d <= 365 for d in days.values()):
            raise ValueError("complaint SLA days lie between 1 and 365")
        return {**DEFAULT_COMPLAINT_SLA_DAYS, **days}

    desil_thresholds: list[int] = Field(
        default_factory=lambda: [4, 5],
        description="Fallback only while no programme rule version is known: the thresholds come from the desil"
        " bands disbursement publishes (programme.rule_published); crossing one (≤ t to > t or back) opens a check.",
    )
    flag_check_kinds: list[str] = Field(
        default_factory=lambda: [
            FlagKind.DECEASED_DUKCAPIL.value,
            FlagKind.DUPLICATE_NIK.value,
            FlagKind.EXCLUDED_OCCUPATION.value,
            FlagKind.DEATH_RECORD_CONFLICT.value,
            FlagKind.MEMBER_NEEDS_CORRECTION.value,
        ],
        description="Flag kinds that trigger a ground check when they newly appear on a family.",
    )

    @field_validator("flag_check_kinds")
    @classmethod
    def _known_kinds(cls, kinds: list[str]) -> list[str]:
        unknown = sorted(set(kinds) - FLAG_KINDS)
        if unknown:
            raise ValueError(f"unknown flag kinds {unknown}: the registry raises only {sorted(FLAG_KINDS)}")
        return kinds

    evidence_dir: Path | None = Field(
        default=None, description="Folder of the content-addressed evidence files (default: <data_dir>/evidence)."
    )
    evidence_max_bytes: int = Field(
        default=8 * 1024 * 1024, ge=1024, le=512 * 1024 * 1024, description="Largest evidence file accepted."
    )

    @property
    def evidence_path(self) -> Path:
        """Where evidence files are kept."""
        return self.evidence_dir or self.data_dir / "evidence"

    # Notifications to families and complainants (services/verification/notifications, docs/NOTIFICATIONS.md).
    notify_sms_provider: Literal["log", "webhook", "off"] = Field(
        default="log",
        description="Where SMS/WhatsApp notifications go: 'webhook' (the HTTP gateway of notify_webhook_url), "
        "'log' (the log only: embedded mode), 'off' (none are queued).",
    )
    notify_email_provider: Literal["log", "smtp", "off"] = Field(
        default="log", description="Where e-mail notifications go: 'smtp', 'log' or 'off'."
    )
    notify_webhook_url: str | None = Field(default=None, description="The SMS/WhatsApp gateway's endpoint.")
    notify_webhook_secret: SecretStr | None = Field(
        default=None, description="Shared secret of the webhook's HMAC-SHA256 signature (X-Tepat-Signature)."
    )
    notify_smtp_host: str = Field(default="localhost")
    notify_smtp_port: int = Field(default=25, ge=1, le=65535)
    notify_smtp_sender: str = Field(default="Dinas Sosial Kota Padang <noreply@dinsos.padang.go.id>")
    notify_smtp_username: str | None = Field(default=None)
    notify_smtp_password: SecretStr | None = Field(default=None)
    notify_smtp_starttls: bool = Field(default=False)
    notify_quiet_start_hour: int = Field(
        default=21, ge=0, le=23, description="Quiet hours start (Padang time, WIB): nothing is sent until the end."
    )
    notify_quiet_end_hour: int = Field(default=7, ge=0, le=23, description="Quiet hours end (WIB); equal: none.")
    notify_max_attempts: int = Field(
        default=8, ge=1, le=50, description="Attempts per notification before it is dead-lettered (status 'dead')."
    )
    notify_retry_first_s: float = Field(default=60.0, gt=0, description="Wait after the first failed attempt.")
    notify_retry_cap_s: float = Field(default=3600.0, gt=0, description="Longest wait between attempts.")
    notify_batch_size: int = Field(default=200, ge=1, le=10_000, description="Notifications sent per job run.")
    notify_payers: dict[str, str] = Field(
        default_factory=lambda: {"PKH": "bank penyalur (kartu KKS)", "BPNT": "bank penyalur (kartu KKS)"},
        description="Payer named in 'payment scheduled' messages, per programme code (others: notify_default_payer).",
    )
    notify_default_payer: str = Field(default="Kantor Pos atau bank penyalur yang ditunjuk")

    @model_validator(mode="after")
    def _webhook_complete(self) -> Self:
        if self.notify_sms_provider == "webhook" and not (self.notify_webhook_url and self.notify_webhook_secret):
            raise ValueError("notify_sms_provider 'webhook' needs notify_webhook_url and notify_webhook_secret")
        return self


def settings_of(holder: ServiceRuntime | JobContext) -> VerificationSettings:
    """The running service's settings, typed (a runtime or a job holds them as the shared base class)."""
    settings = holder.settings
    assert isinstance(settings, VerificationSettings)
    return settings
