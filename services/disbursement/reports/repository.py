"""Queries of the reports beyond the JSON ones: failed and held amounts per kecamatan."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.payments.models import payment_line
from services.disbursement.scope import within_scope
from shared.auth.principal import Principal

pl = payment_line.c
FAILED = ("failed", "returned")


async def failed_and_held(session: AsyncSession, *, tahap_id: str, principal: Principal) -> dict[str, dict[str, int]]:
    """Per kecamatan (scoped): lines failed or returned and lines on hold, counted and summed."""
    failed = pl.status.in_(FAILED)
    held = pl.status == "on_hold"
    stmt = (
        select(
            pl.kecamatan_code,
            func.coalesce(func.sum(case((failed, 1), else_=0)), 0),
            func.coalesce(func.sum(case((failed, pl.amount), else_=0)), 0),
            func.coalesce(func.sum(case((held, 1), else_=0)), 0),
            func.coalesce(func.sum(case((held, pl.amount), else_=0)), 0),
        )
        .where(pl.tahap_id == tahap_id, within_scope(pl.kelurahan_code, principal))
        .group_by(pl.kecamatan_code)
    )
    return {
        kec: {"failed": int(nf), "amount_failed": int(af), "on_hold": int(nh), "amount_on_hold": int(ah)}
        for kec, nf, af, nh, ah in (await session.execute(stmt)).all()
    }
