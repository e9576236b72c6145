"""App factory of the verification service."""

from __future__ import annotations

from fastapi import FastAPI

from services.verification.database import MIGRATIONS, messaging, metadata
from services.verification.households import models as _household_models  # noqa: F401  (registers tables)
from services.verification.households.handlers import HANDLERS as HOUSEHOLD_HANDLERS
from services.verification.settings import VerificationSettings
from shared.bus.local import LocalBus
from shared.events.topics import REGISTRY_HOUSEHOLD
from shared.runtime.service import ServiceDefinition, build_service_app


def definition(settings: VerificationSettings | None = None) -> ServiceDefinition:
    """Verification as the shared runtime sees it."""
    return ServiceDefinition(
        settings=settings or VerificationSettings(),
        title="Tepat verification",
        description="Proposals (usulan), objections (sanggah), ground checks by TKSK/PSM, ratification.",
        metadata=metadata,
        messaging=messaging,
        migrations=MIGRATIONS,
        routers=[],
        handlers=HOUSEHOLD_HANDLERS,
        topics=(REGISTRY_HOUSEHOLD,),
    )


def create_app(settings: VerificationSettings | None = None, *, bus: LocalBus | None = None) -> FastAPI:
    """Build the verification app."""
    return build_service_app(definition(settings), bus=bus)
