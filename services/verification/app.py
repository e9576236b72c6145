"""App factory of the verification service."""

from __future__ import annotations

from fastapi import FastAPI

from services.verification.attachments import models as _attachment_models  # noqa: F401  (registers tables)
from services.verification.campaigns import models as _campaign_models  # noqa: F401
from services.verification.campaigns.export_router import router as campaigns_export_router
from services.verification.campaigns.router import router as campaigns_router
from services.verification.complaints.router import router as complaints_router
from services.verification.database import MIGRATIONS, export_jobs, messaging, metadata
from services.verification.evidence import models as _evidence_models  # noqa: F401
from services.verification.evidence.router import router as evidence_router
from services.verification.groundchecks.export_router import router as groundchecks_export_router
from services.verification.groundchecks.handlers import payment_handlers
from services.verification.groundchecks.router import router as groundchecks_router
from services.verification.handlers import household_handlers
from services.verification.households import models as _household_models  # noqa: F401
from services.verification.jobs import JOBS
from services.verification.notifications import models as _notification_models  # noqa: F401
from services.verification.notifications.handlers import notification_handlers
from services.verification.notifications.router import router as notifications_router
from services.verification.objections.router import router as objections_router
from services.verification.proposals.router import router as proposals_router
from services.verification.ratification import models as _ratification_models  # noqa: F401
from services.verification.ratification.pdf_router import router as berita_acara_router
from services.verification.ratification.router import router as ratification_router
from services.verification.settings import VerificationSettings
from services.verification.workreports.router import router as workreports_router
from shared.bus.local import LocalBus
from shared.events.topics import DISBURSEMENT_PAYMENT, REGISTRY_HOUSEHOLD
from shared.exports.jobs import export_jobs_router
from shared.runtime.service import ServiceDefinition, build_service_app


def definition(settings: VerificationSettings | None = None) -> ServiceDefinition:
    """Verification as the shared runtime sees it."""
    settings = settings or VerificationSettings()
    return ServiceDefinition(
        settings=settings,
        title="Tepat verification",
        description="Proposals (usulan), objections (sanggah), ground checks by TKSK/PSM, ratification, complaints"
        " (pengaduan).",
        metadata=metadata,
        messaging=messaging,
        migrations=MIGRATIONS,
        routers=[
            # The exports first: /ground-checks/export must not be read as the check "export".
            groundchecks_export_router,
            campaigns_export_router,
            export_jobs_router(export_jobs),
            proposals_router,
            objections_router,
            workreports_router,
            groundchecks_router,
            campaigns_router,
            ratification_router,
            berita_acara_router,
            evidence_router,
            notifications_router,
            complaints_router,
        ],
        handlers=notification_handlers(settings, {**household_handlers(settings), **payment_handlers(settings)}),
        topics=(REGISTRY_HOUSEHOLD, DISBURSEMENT_PAYMENT),
        jobs=JOBS,
    )


def create_app(settings: VerificationSettings | None = None, *, bus: LocalBus | None = None) -> FastAPI:
    """Build the verification app."""
    return build_service_app(definition(settings), bus=bus)
