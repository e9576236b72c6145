"""App factory of the registry service."""

from __future__ import annotations

from fastapi import FastAPI

from services.registry.database import MIGRATIONS, messaging, metadata
from services.registry.settings import RegistrySettings
from shared.bus.local import LocalBus
from shared.runtime.service import ServiceDefinition, build_service_app


def definition(settings: RegistrySettings | None = None) -> ServiceDefinition:
    """The registry as the shared runtime sees it."""
    return ServiceDefinition(
        settings=settings or RegistrySettings(),
        title="Tepat registry",
        description="Families (No. KK) and members (NIK), wilayah, desil history, data-quality flags.",
        metadata=metadata,
        messaging=messaging,
        migrations=MIGRATIONS,
        routers=[],
        handlers={},
        topics=(),
    )


def create_app(settings: RegistrySettings | None = None, *, bus: LocalBus | None = None) -> FastAPI:
    """Build the registry app."""
    return build_service_app(definition(settings), bus=bus)
