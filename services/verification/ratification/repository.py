"""Queries of ratification batches' documents: the batch's list of usulan."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification.groundchecks.models import ground_check
from services.verification.proposal_records import proposal

p = proposal.c


async def batch_list(session: AsyncSession, batch_id: int) -> list[dict[str, Any]]:
    """Every usulan of a batch in id order, with its approved ground check's evidence hash (PII-free)."""
    stmt = (
        select(
            p.id,
            p.household_id,
            p.kecamatan_code,
            p.kelurahan_code,
            p.kind,
            p.channel,
            p.ground_check_id,
            ground_check.c.evidence_hash,
        )
        .select_from(proposal.outerjoin(ground_check, ground_check.c.id == p.ground_check_id))
        .where(p.batch_id == batch_id)
        .order_by(p.id)
    )
    return [dict(r._mapping) for r in await session.execute(stmt)]
