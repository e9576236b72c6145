"""HTTP routes of the TKSK work report (JSON and PDF), scoped to the caller's wilayah."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from services.verification.settings import settings_of
from services.verification.workreports import service
from services.verification.workreports.schemas import TkskReport
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.events.envelope import utcnow
from shared.events.household import WILAYAH_KECAMATAN
from shared.http.security import require
from shared.pdf.response import PDF_RESPONSES, pdf_response
from shared.runtime.dependencies import RuntimeDep, SessionDep

router = APIRouter(prefix="/ground-checks/reports", tags=["ground checks"])
Reader = Annotated[Principal, Depends(require(Permission.READ_VERIFICATION))]
Kecamatan = Annotated[str, Query(pattern=WILAYAH_KECAMATAN, examples=["13.71.01"])]
From = Annotated[date, Query(alias="from", description="First day of the period (UTC).")]
To = Annotated[date, Query(alias="to", description="Last day of the period (UTC), at most 366 days after from.")]


@router.get("/tksk", response_model=TkskReport, summary="TKSK work report of a kecamatan for a period")
async def tksk(
    session: SessionDep, principal: Reader, kecamatan_code: Kecamatan, period_from: From, period_to: To
) -> TkskReport:
    """Per officer: checks assigned, visited (layak / tidak layak) and overdue; outcomes; campaign progress."""
    return await service.tksk_report(
        session,
        principal=principal,
        kecamatan_code=kecamatan_code,
        period_from=period_from,
        period_to=period_to,
        now=utcnow(),
    )


@router.get(
    "/tksk.pdf",
    summary="TKSK work report of a kecamatan for a period (PDF, Bahasa Indonesia)",
    description="The JSON report as a signed document: page numbers, signature block, the content's SHA-256.",
    response_class=Response,
    responses=PDF_RESPONSES,
)
async def tksk_pdf(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Reader,
    kecamatan_code: Kecamatan,
    period_from: From,
    period_to: To,
) -> Response:
    settings = settings_of(runtime)
    report = await service.tksk_report_pdf(
        session,
        principal=principal,
        kecamatan_code=kecamatan_code,
        period_from=period_from,
        period_to=period_to,
        now=utcnow(),
        signatory=settings.signatory(),
    )
    return pdf_response(report)
