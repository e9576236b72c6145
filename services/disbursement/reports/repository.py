"""Queries of the reports: a tahap's lines, failures, open breaks, failed and held amounts per kecamatan."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.payments.models import payment_line
from services.disbursement.reconciliation.models import reconciliation_break
from services.disbursement.scope import within_scope
from shared.auth.principal import Principal

pl = payment_line.c
b = reconciliation_break.c
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


async def lines_by_kecamatan(
    session: AsyncSession, *, tahap_id: str, principal: Principal
) -> dict[str, dict[str, int]]:
    """Per kecamatan (scoped): lines listed and planned, lines paid and paid amount, lines on hold."""
    paid = pl.status.in_(["paid", "disputed"])
    stmt = (
        select(
            pl.kecamatan_code,
            func.count(),
            func.coalesce(func.sum(pl.amount), 0),
            func.coalesce(func.sum(case((paid, 1), else_=0)), 0),
            func.coalesce(func.sum(case((paid, pl.paid_amount), else_=0)), 0),
            func.coalesce(func.sum(case((pl.status == "on_hold", 1), else_=0)), 0),
        )
        .where(pl.tahap_id == tahap_id, pl.status != "cancelled", within_scope(pl.kelurahan_code, principal))
        .group_by(pl.kecamatan_code)
    )
    return {
        kec: {"listed": int(n), "planned": int(a), "paid": int(np_), "amount_paid": int(ap), "on_hold": int(h)}
        for kec, n, a, np_, ap, h in (await session.execute(stmt)).all()
    }


async def failures_by_kecamatan(
    session: AsyncSession, *, tahap_id: str, principal: Principal
) -> dict[str, dict[str, int]]:
    """Per kecamatan (scoped): failed or returned lines by failure reason."""
    stmt = (
        select(pl.kecamatan_code, pl.failure_reason, func.count())
        .where(pl.tahap_id == tahap_id, pl.status.in_(FAILED), within_scope(pl.kelurahan_code, principal))
        .group_by(pl.kecamatan_code, pl.failure_reason)
    )
    out: dict[str, dict[str, int]] = {}
    for kec, reason, n in (await session.execute(stmt)).all():
        out.setdefault(kec, {})[reason or "unspecified"] = int(n)
    return out


async def open_breaks_by_kecamatan(session: AsyncSession, *, tahap_id: str, principal: Principal) -> dict[str, int]:
    """Per kecamatan (scoped): open entries of the tahap's break queue."""
    stmt = (
        select(b.kecamatan_code, func.count())
        .where(
            b.tahap_id == tahap_id,
            b.status == "open",
            b.kecamatan_code.is_not(None),
            within_scope(b.kelurahan_code, principal),
        )
        .group_by(b.kecamatan_code)
    )
    return {k: int(n) for k, n in (await session.execute(stmt)).all()}
