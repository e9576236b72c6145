"""Read-only API of a family's desil history ("why did I drop out?")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from services.registry.desil import service
from services.registry.desil.schemas import DesilHistory
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.http.security import require
from shared.runtime.dependencies import SessionDep

router = APIRouter(tags=["desil"])


@router.get("/families/{family_id}/desil", response_model=DesilHistory, summary="Desil history of a family")
async def desil_history(
    family_id: str, session: SessionDep, principal: Annotated[Principal, Depends(require(Permission.READ_HOUSEHOLD))]
) -> DesilHistory:
    return await service.desil_history(session, principal=principal, family_id=family_id)
