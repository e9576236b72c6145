"""The query of the status check: lines of the families in each programme's current tahap."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import RowMapping, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.payments.models import payment_line
from services.disbursement.tahap_state.models import tahap

# A tahap citizens may hear about: its list is approved (drafts and generated lists may still change).
PUBLISHED = ("approved", "paying", "closed")


async def current_lines(session: AsyncSession, household_ids: Sequence[str]) -> list[RowMapping]:
    """Programme, tahap label and line status of the families in the newest published tahap of each programme."""
    t, pl = tahap.c, payment_line.c
    newest = (
        select(t.programme_code, func.max(t.as_of).label("as_of"))
        .where(t.status.in_(PUBLISHED))
        .group_by(t.programme_code)
        .subquery()
    )
    query = (
        select(pl.programme_code, t.label, pl.status)
        .join(tahap, t.id == pl.tahap_id)
        .join(newest, (newest.c.programme_code == t.programme_code) & (newest.c.as_of == t.as_of))
        .where(pl.household_id.in_(household_ids), t.status.in_(PUBLISHED), pl.status != "cancelled")
        .order_by(pl.programme_code, t.label)
    )
    return [r._mapping for r in (await session.execute(query)).all()]
