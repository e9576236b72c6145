"""The README's configuration reference names every setting of every service (docs must not drift)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from services.disbursement.settings import DisbursementSettings
from services.gateway.settings import GatewaySettings
from services.registry.settings import RegistrySettings
from services.verification.settings import VerificationSettings

README = (Path(__file__).resolve().parents[3] / "README.md").read_text()


@pytest.mark.parametrize(
    "settings_cls", [RegistrySettings, VerificationSettings, DisbursementSettings, GatewaySettings]
)
def test_every_setting_is_documented(settings_cls: type[BaseSettings]) -> None:
    missing = [name for name in settings_cls.model_fields if f"`{name.upper()}`" not in README]
    assert missing == [], f"{settings_cls.__name__}: document {missing} in README.md#configuration"
