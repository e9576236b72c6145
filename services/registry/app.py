"""App factory of the registry service."""

from __future__ import annotations

from fastapi import FastAPI

from services.registry import models as _models  # noqa: F401  (registers the tables)
from services.registry.aggregates.router import router as aggregates_router
from services.registry.corrections.export_router import router as corrections_export_router
from services.registry.corrections.router import router as corrections_router
from services.registry.database import MIGRATIONS, export_jobs, messaging, metadata
from services.registry.dci.jobs import JOBS as DCI_JOBS
from services.registry.dci.notify import HANDLERS as DCI_NOTIFY_HANDLERS
from services.registry.dci.router import admin as dci_admin_router
from services.registry.dci.router import callbacks as dci_callbacks_router
from services.registry.dci.router import router as dci_router
from services.registry.desil.router import router as desil_router
from services.registry.families.export_router import router as families_export_router
from services.registry.families.router import router as families_router
from services.registry.flags.export_router import router as flags_export_router
from services.registry.flags.router import router as flags_router
from services.registry.imports import models as _import_models  # noqa: F401  (registers the import tables)
from services.registry.imports.router import router as imports_router
from services.registry.outcomes.handlers import HANDLERS as OUTCOME_HANDLERS
from services.registry.republish.router import router as republish_router
from services.registry.settings import RegistrySettings
from services.registry.status_check.router import router as status_check_router
from services.registry.wilayah.router import router as wilayah_router
from shared.bus.local import LocalBus
from shared.events.topics import REGISTRY_HOUSEHOLD, VERIFICATION_OUTCOME
from shared.exports.jobs import export_jobs_router
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
        routers=[
            # Other systems' DCI searches first: routes are matched in order, and this is the path under the most
            # load (at the end of the list, matching it cost about 0.13 ms a request). Its paths overlap no other.
            dci_router,
            # The exports before the families: /families/export must not be read as the family "export".
            families_export_router,
            flags_export_router,
            corrections_export_router,
            export_jobs_router(export_jobs),
            wilayah_router,
            families_router,
            flags_router,
            desil_router,
            aggregates_router,
            imports_router,
            corrections_router,
            dci_admin_router,
            status_check_router,
            dci_callbacks_router,
            republish_router,
        ],
        # The registry also reads its own household topic: DCI subscriptions are notified of every change.
        handlers={**OUTCOME_HANDLERS, **DCI_NOTIFY_HANDLERS},
        topics=(VERIFICATION_OUTCOME, REGISTRY_HOUSEHOLD),
        jobs=DCI_JOBS,
    )


def create_app(settings: RegistrySettings | None = None, *, bus: LocalBus | None = None) -> FastAPI:
    """Build the registry app."""
    return build_service_app(definition(settings), bus=bus)
