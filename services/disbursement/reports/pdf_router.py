"""HTTP route of the tahap report PDF (scoped like the JSON reports)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from services.disbursement.reports import service
from services.disbursement.settings import DisbursementSettings
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.http.params import PathText
from shared.http.security import require
from shared.pdf.response import PDF_RESPONSES, pdf_response
from shared.runtime.dependencies import RuntimeDep, SessionDep

router = APIRouter(tags=["reports"])
Reader = Annotated[Principal, Depends(require(Permission.READ_PAYMENTS))]


@router.get(
    "/tahap/{tahap_id}/report.pdf",
    summary="The tahap report for the kepala dinas (PDF, Bahasa Indonesia)",
    description=(
        "Listed, paid, failed and on-hold families and amounts per kecamatan with a bar chart, and the changes since "
        "the previous tahap with their reasons; page numbers, the signature block and the SHA-256 of the certified "
        "content in the footer (also in X-Tepat-Content-SHA256). Scoped: a kecamatan's reader sees its kecamatan."
    ),
    response_class=Response,
    responses=PDF_RESPONSES,
)
async def tahap_report(tahap_id: PathText, session: SessionDep, runtime: RuntimeDep, principal: Reader) -> Response:
    settings = runtime.settings
    assert isinstance(settings, DisbursementSettings)
    report = await service.tahap_report_pdf(
        session, tahap_id=tahap_id, principal=principal, signatory=settings.signatory()
    )
    return pdf_response(report)
