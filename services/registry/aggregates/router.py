"""Aggregates for dashboards: counts per kecamatan or kelurahan, scope-aware."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends

from services.registry.aggregates import service
from services.registry.aggregates.schemas import Aggregates
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.http.security import require
from shared.runtime.dependencies import SessionDep

router = APIRouter(tags=["aggregates"])


@router.get("/aggregates/families", response_model=Aggregates, summary="Family counts per kecamatan or kelurahan")
async def family_aggregates(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(Permission.READ_AGGREGATES))],
    group_by: Literal["kecamatan", "kelurahan"] = "kecamatan",
) -> Aggregates:
    return await service.family_aggregates(session, principal=principal, group_by=group_by)
