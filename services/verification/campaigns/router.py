"""HTTP API of revalidation campaigns."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from services.verification.campaigns import service
from services.verification.campaigns.schemas import CampaignIn, CampaignOut, CampaignProgress
from services.verification.settings import settings_of
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.http.params import RecordId
from shared.http.security import require
from shared.runtime.dependencies import RuntimeDep, SessionDep

router = APIRouter(tags=["campaigns"])

Reader = Annotated[Principal, Depends(require(Permission.READ_VERIFICATION))]
Manager = Annotated[Principal, Depends(require(Permission.MANAGE_GROUND_CHECKS))]


@router.post("/campaigns", status_code=201, response_model=CampaignOut, summary="Revalidate before a tahap")
async def create(body: CampaignIn, session: SessionDep, runtime: RuntimeDep, principal: Manager) -> CampaignOut:
    """Select active families of the kecamatan list not verified recently (optionally desil ≤ max) and open
    their checks, assigned to each kecamatan's TKSK, in one set-based statement."""
    settings = settings_of(runtime)
    return await service.create_campaign(session, principal=principal, settings=settings, body=body)


@router.get("/campaigns/{campaign_id}/progress", response_model=CampaignProgress, summary="Campaign progress")
async def progress(campaign_id: RecordId, session: SessionDep, principal: Reader) -> CampaignProgress:
    """Counts by state per kecamatan and per officer, within the caller's scope."""
    return await service.progress(session, principal=principal, campaign_id=campaign_id)
