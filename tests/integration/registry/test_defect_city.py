"""Issue 12's measures on a generated defect city: PostgreSQL at 3,000 families, embedded (SQLite) smaller."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from shared.auth.principal import Role
from shared.bus.local import LocalBus
from tests.integration.registry.conftest import Registry
from tests.integration.registry.defect_city import assert_defect_city
from tests.integration.registry.helpers import Api
from tests.support.api import running


@pytest.mark.infra
async def test_defect_city_on_postgresql(registry: Registry, tmp_path: Path) -> None:
    api = registry.as_(Role.VERIFIKATOR)
    await assert_defect_city(api, registry.runtime, tmp_path / "city", families=3000, seed=3)


async def test_defect_city_embedded(sqlite_settings: Any, tmp_path: Path) -> None:
    settings = sqlite_settings(RegistrySettings, run_workers=False)
    app = create_app(settings, bus=LocalBus())
    async with running(app) as client:
        api = Api(client, settings.data_dir, Role.VERIFIKATOR)
        await assert_defect_city(api, app.state.runtime, tmp_path / "city", families=800, seed=11)
