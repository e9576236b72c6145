"""Read-only API of a family's desil history ("why did I drop out?")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import select

from services.registry.desil.models import desil_snapshot
from services.registry.families.repository import get_family_row
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.http.security import require
from shared.runtime.dependencies import SessionDep

router = APIRouter(tags=["desil"])


class DesilSnapshotOut(BaseModel):
    """One BPS ranking of the family."""

    period: str
    desil: int
    source: str
    import_batch_id: str | None
    recorded_at: datetime


class DesilHistory(BaseModel):
    """Current desil and every snapshot, newest period first."""

    family_id: str
    desil: int | None
    desil_period: str | None
    desil_since: str | None
    snapshots: list[DesilSnapshotOut]


@router.get("/families/{family_id}/desil", response_model=DesilHistory, summary="Desil history of a family")
async def desil_history(
    family_id: str, session: SessionDep, principal: Annotated[Principal, Depends(require(Permission.READ_HOUSEHOLD))]
) -> DesilHistory:
    row = await get_family_row(session, principal, family_id)
    rows = await session.execute(
        select(desil_snapshot).where(desil_snapshot.c.family_id == family_id).order_by(desil_snapshot.c.period.desc())
    )
    return DesilHistory(
        family_id=family_id,
        desil=row["desil"],
        desil_period=row["desil_period"],
        desil_since=row["desil_since"],
        snapshots=[DesilSnapshotOut.model_validate(dict(r)) for r in rows.mappings()],
    )
