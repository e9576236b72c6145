"""settings_of: the verification settings of a runtime or a job, typed, and never another service's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.registry.settings import RegistrySettings
from services.verification.settings import VerificationSettings, settings_of
from shared.runtime.scheduler import JobContext
from shared.settings import ServiceSettings


def job_with(settings: ServiceSettings) -> JobContext:
    # A job only reads the settings here: the sessions and outbox are never touched.
    unused: Any = None
    return JobContext(sessions=unused, outbox=unused, settings=settings, now=datetime(2026, 11, 2, tzinfo=UTC))


def test_a_job_of_verification_gets_its_settings_typed(tmp_path: Path) -> None:
    settings = VerificationSettings(data_dir=tmp_path, notify_batch_size=7)
    typed = settings_of(job_with(settings))
    assert typed is settings
    assert typed.notify_batch_size == 7


def test_another_service_s_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(AssertionError):
        settings_of(job_with(RegistrySettings(data_dir=tmp_path)))
