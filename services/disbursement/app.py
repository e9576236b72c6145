"""App factory of the disbursement service."""

from __future__ import annotations

from fastapi import FastAPI

from services.disbursement.database import MIGRATIONS, messaging, metadata
from services.disbursement.settings import DisbursementSettings
from shared.bus.local import LocalBus
from shared.runtime.service import ServiceDefinition, build_service_app


def definition(settings: DisbursementSettings | None = None) -> ServiceDefinition:
    """Disbursement as the shared runtime sees it."""
    return ServiceDefinition(
        settings=settings or DisbursementSettings(),
        title="Tepat disbursement",
        description="Programmes, eligibility rules, tahap with frozen lists, payment lines, reconciliation.",
        metadata=metadata,
        messaging=messaging,
        migrations=MIGRATIONS,
        routers=[],
        handlers={},
        topics=(),
    )


def create_app(settings: DisbursementSettings | None = None, *, bus: LocalBus | None = None) -> FastAPI:
    """Build the disbursement app."""
    return build_service_app(definition(settings), bus=bus)
