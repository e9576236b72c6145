"""HTTP API of the status-check payment query (called by the gateway's public Cek Bansos page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from services.disbursement.status_check import service
from services.disbursement.status_check.schemas import PaymentsIn
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.http.security import require
from shared.runtime.dependencies import SessionDep
from shared.status_check import StatusAnswer

router = APIRouter(tags=["status check"])

Checker = Annotated[Principal, Depends(require(Permission.STATUS_CHECK))]


@router.post("/status-check/payments", response_model=StatusAnswer, summary="Programmes and payment status")
async def payments(body: PaymentsIn, session: SessionDep, principal: Checker) -> StatusAnswer:
    """For up to 5 families: each programme whose current (newest approved) tahap lists one, with its status."""
    return await service.payments(session, query=body)
