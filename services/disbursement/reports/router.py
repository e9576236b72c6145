"""Dashboard reports per kecamatan (aggregates only, scoped by wilayah)."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.payments.models import payment_line
from services.disbursement.reconciliation.models import reconciliation_break
from services.disbursement.scope import within_scope
from services.disbursement.tahap.service import require_tahap
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.http.params import PathText
from shared.http.security import require
from shared.runtime.dependencies import SessionDep

router = APIRouter(prefix="/reports", tags=["reports"])
Reader = Annotated[Principal, Depends(require(Permission.READ_PAYMENTS))]
pl = payment_line.c
b = reconciliation_break.c


class KecamatanReport(BaseModel):
    """One kecamatan of a tahap."""

    kecamatan_code: str
    families_listed: int
    amount_planned: int
    families_paid: int
    amount_paid: int
    paid_pct: float
    on_hold: int
    failures_by_reason: dict[str, int]
    breaks_open: int


class TahapReport(BaseModel):
    """A tahap per kecamatan, in the caller's scope."""

    tahap_id: PathText
    programme_code: str
    label: str
    kecamatan: list[KecamatanReport]


async def kecamatan_report(session: AsyncSession, *, tahap_id: PathText, principal: Principal) -> TahapReport:
    """Families listed, amounts, paid %, failures by reason and open breaks per kecamatan (scoped)."""
    tahap = await require_tahap(session, tahap_id)
    scope = within_scope(pl.kelurahan_code, principal)
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
        .where(pl.tahap_id == tahap_id, pl.status != "cancelled", scope)
        .group_by(pl.kecamatan_code)
    )
    rows: dict[str, dict[str, Any]] = {}
    for kec, n, amount, n_paid, amount_paid, held in (await session.execute(stmt)).all():
        rows[kec] = {
            "families_listed": int(n),
            "amount_planned": int(amount),
            "families_paid": int(n_paid),
            "amount_paid": int(amount_paid),
            "on_hold": int(held),
            "paid_pct": round(100.0 * int(n_paid) / int(n), 2) if n else 0.0,
        }
    failures: dict[str, dict[str, int]] = defaultdict(dict)
    stmt_f = (
        select(pl.kecamatan_code, pl.failure_reason, func.count())
        .where(pl.tahap_id == tahap_id, pl.status.in_(["failed", "returned"]), scope)
        .group_by(pl.kecamatan_code, pl.failure_reason)
    )
    for kec, reason, n in (await session.execute(stmt_f)).all():
        failures[kec][reason or "unspecified"] = int(n)
    stmt_b = (
        select(b.kecamatan_code, func.count())
        .where(
            b.tahap_id == tahap_id,
            b.status == "open",
            b.kecamatan_code.is_not(None),
            within_scope(b.kelurahan_code, principal),
        )
        .group_by(b.kecamatan_code)
    )
    breaks = {k: int(n) for k, n in (await session.execute(stmt_b)).all()}
    empty = {
        "families_listed": 0,
        "amount_planned": 0,
        "families_paid": 0,
        "amount_paid": 0,
        "on_hold": 0,
        "paid_pct": 0.0,
    }
    kecs = sorted(set(rows) | set(breaks))
    return TahapReport(
        tahap_id=tahap_id,
        programme_code=tahap["programme_code"],
        label=tahap["label"],
        kecamatan=[
            KecamatanReport(
                kecamatan_code=k,
                **rows.get(k, empty),
                failures_by_reason=failures.get(k, {}),
                breaks_open=breaks.get(k, 0),
            )
            for k in kecs
        ],
    )


@router.get("/tahap/{tahap_id}/kecamatan", summary="A tahap per kecamatan (scoped aggregates)")
async def tahap_by_kecamatan(tahap_id: PathText, session: SessionDep, principal: Reader) -> TahapReport:
    return await kecamatan_report(session, tahap_id=tahap_id, principal=principal)
