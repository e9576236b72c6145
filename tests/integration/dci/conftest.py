"""Fixtures of the DCI tests: the registry on PostgreSQL, a registered partner and its signing key."""

from __future__ import annotations

from typing import Any

from tests.integration.dci.callbacks import dci_registry  # noqa: F401  (fixture)
from tests.integration.dci.partner import Partner
from tests.integration.registry.conftest import Registry, registry  # noqa: F401  (fixture)
from tests.support.api import auth


async def register(registry: Registry, partner: Partner, **settings: Any) -> None:  # noqa: F811
    """Register `partner` through the admin API (role system)."""
    body = partner.registration(**settings)
    r = await registry.client.post("/dci/partners", json=body, headers=auth(registry.data_dir, "system"))
    assert r.status_code == 201, r.text
