"""Dashboard reports per kecamatan (aggregates only, scoped by wilayah); the PDF documents are in `pdf_router`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from services.disbursement.reports import service
from services.disbursement.reports.schemas import TahapReport
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.http.params import PathText
from shared.http.security import require
from shared.runtime.dependencies import SessionDep

router = APIRouter(prefix="/reports", tags=["reports"])
Reader = Annotated[Principal, Depends(require(Permission.READ_PAYMENTS))]


@router.get("/tahap/{tahap_id}/kecamatan", summary="A tahap per kecamatan (scoped aggregates)")
async def tahap_by_kecamatan(tahap_id: PathText, session: SessionDep, principal: Reader) -> TahapReport:
    """Families listed, amounts, paid %, failures by reason and open breaks per kecamatan, in the caller's scope."""
    return await service.kecamatan_report(session, tahap_id=tahap_id, principal=principal)
