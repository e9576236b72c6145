"""Imports every table module so the service's metadata is complete (app, migrations, tests)."""

from __future__ import annotations

from services.registry.dci.models import dci_callback, dci_partner, dci_subscription, dci_transaction
from services.registry.desil.models import desil_snapshot
from services.registry.families.models import (
    family,
    family_history,
    flag,
    idempotency_key,
    member,
    personal_data_access,
)
from services.registry.imports.models import correction
from services.registry.wilayah.models import wilayah

__all__ = [
    "correction",
    "dci_callback",
    "dci_partner",
    "dci_subscription",
    "dci_transaction",
    "desil_snapshot",
    "family",
    "family_history",
    "flag",
    "idempotency_key",
    "member",
    "personal_data_access",
    "wilayah",
]
