"""HTTP API of the status-check lookup (called by the gateway's public Cek Bansos page, never by citizens)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from services.registry.status_check import service
from services.registry.status_check.schemas import LookupOut
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.http.security import require
from shared.runtime.dependencies import SessionDep
from shared.status_check import StatusQuery

router = APIRouter(tags=["status check"])

Checker = Annotated[Principal, Depends(require(Permission.STATUS_CHECK))]


@router.post("/status-check/lookup", response_model=LookupOut, summary="Families a public status query names")
async def lookup(body: StatusQuery, session: SessionDep, principal: Checker) -> LookupOut:
    """Name with kelurahan or NIK → household ids (at most 5); audited by the query's hash."""
    return await service.lookup(session, principal=principal, query=body)
