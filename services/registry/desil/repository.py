"""Queries over desil snapshots."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.desil.models import desil_snapshot


async def snapshots_of(session: AsyncSession, family_id: str) -> list[dict[str, Any]]:
    """Every desil snapshot of a family, newest period first."""
    rows = await session.execute(
        select(desil_snapshot).where(desil_snapshot.c.family_id == family_id).order_by(desil_snapshot.c.period.desc())
    )
    return [dict(r) for r in rows.mappings()]
