"""App factory of the disbursement service."""

from __future__ import annotations

from fastapi import FastAPI

from services.disbursement.database import MIGRATIONS, messaging, metadata
from services.disbursement.handlers import HANDLERS
from services.disbursement.households import models as _household_models  # noqa: F401  (registers tables)
from services.disbursement.payer_reports import models as _report_models  # noqa: F401
from services.disbursement.payer_reports.router import router as payer_reports_router
from services.disbursement.payment_files.router import router as payment_files_router
from services.disbursement.payments import models as _payment_models  # noqa: F401
from services.disbursement.payments.router import router as payments_router
from services.disbursement.programmes import models as _programme_models  # noqa: F401
from services.disbursement.programmes.router import router as programmes_router
from services.disbursement.reconciliation import models as _break_models  # noqa: F401
from services.disbursement.reconciliation.router import router as reconciliation_router
from services.disbursement.reports.pdf_router import router as report_pdf_router
from services.disbursement.reports.router import router as reports_router
from services.disbursement.settings import DisbursementSettings
from services.disbursement.status_check.router import router as status_check_router
from services.disbursement.tahap.router import router as tahap_router
from services.disbursement.tahap_state import models as _tahap_models  # noqa: F401
from shared.bus.local import LocalBus
from shared.events.topics import REGISTRY_HOUSEHOLD, VERIFICATION_OUTCOME
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
        routers=[
            programmes_router,
            tahap_router,
            payments_router,
            payer_reports_router,
            payment_files_router,
            reconciliation_router,
            reports_router,
            report_pdf_router,
            status_check_router,
        ],
        handlers=HANDLERS,
        topics=(REGISTRY_HOUSEHOLD, VERIFICATION_OUTCOME),
    )


def create_app(settings: DisbursementSettings | None = None, *, bus: LocalBus | None = None) -> FastAPI:
    """Build the disbursement app."""
    return build_service_app(definition(settings), bus=bus)
