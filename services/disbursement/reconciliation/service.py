"""Reconciliation of a tahap and the break queue's resolution."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, or_
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.reconciliation import repository as repo
from services.disbursement.reconciliation.models import reconciliation_break
from services.disbursement.reconciliation.schemas import BreakOut, ReconciliationOut, ResolveIn, Totals
from services.disbursement.scope import within_scope
from services.disbursement.tahap_state.service import require_tahap
from shared.auth.principal import Principal, ScopeLevel
from shared.events.envelope import utcnow
from shared.http.problems import ProblemError

# Lines that reached the payer, whatever happened next.
_AT_PAYER_OR_LATER = {"at_payer", "paid", "failed", "returned", "disputed", "recovered"}


def _scope(principal: Principal) -> ColumnElement[bool]:
    col = reconciliation_break.c.kelurahan_code
    # Breaks without a line (unknown lines) have no wilayah: only kota-wide principals see them.
    if principal.scope_level is ScopeLevel.KOTA:
        return or_(col.is_(None), within_scope(col, principal))
    return within_scope(col, principal)


async def summary(session: AsyncSession, *, tahap_id: str, principal: Principal) -> ReconciliationOut:
    """Totals of a tahap and its open breaks (kota-wide figures)."""
    await require_tahap(session, tahap_id)
    rows = await repo.line_totals(session, tahap_id)
    by_status = {s: Totals(lines=n, amount=a) for s, n, a, _p, _r in rows}

    def bucket(statuses: set[str], use: str = "amount") -> Totals:
        lines = sum(n for s, n, _a, _p, _r in rows if s in statuses)
        idx = {"amount": 2, "paid": 3, "returned": 4}[use]
        return Totals(lines=lines, amount=sum(row[idx] for row in rows if row[0] in statuses))

    return ReconciliationOut(
        tahap_id=tahap_id,
        planned=bucket({s for s, *_ in rows if s != "cancelled"}),
        at_payer=bucket(_AT_PAYER_OR_LATER),
        paid=bucket({"paid", "disputed"}, "paid"),
        failed=bucket({"failed", "returned"}),
        returned=bucket({"returned"}, "returned"),
        on_hold=bucket({"on_hold"}),
        cancelled=bucket({"cancelled"}),
        by_status=by_status,
        breaks_open=await repo.break_counts(session, tahap_id, _scope(principal)),
    )


async def reconcile(session: AsyncSession, *, tahap_id: str, principal: Principal) -> ReconciliationOut:
    """Detect every mismatch (set-based) into the break queue, then report the totals."""
    await require_tahap(session, tahap_id)
    await repo.detect_breaks(session, tahap_id, utcnow())
    return await summary(session, tahap_id=tahap_id, principal=principal)


async def breaks(
    session: AsyncSession,
    *,
    tahap_id: str,
    principal: Principal,
    status: str | None,
    kind: str | None,
    limit: int,
    offset: int,
) -> list[BreakOut]:
    """A page of the break queue in the caller's scope."""
    await require_tahap(session, tahap_id)
    rows = await repo.list_breaks(
        session,
        tahap_id=tahap_id,
        scope=_scope(principal),
        status=status,
        kind=kind,
        limit=limit,
        offset=offset,
    )
    return [BreakOut.model_validate(dict(r)) for r in rows]


async def breaks_query(
    session: AsyncSession, *, tahap_id: str, principal: Principal, status: str | None, kind: str | None
) -> Select[Any]:
    """The whole break queue in the caller's scope, as a query to stream (exports)."""
    await require_tahap(session, tahap_id)
    return repo.breaks_query(tahap_id=tahap_id, scope=_scope(principal), status=status, kind=kind)


def break_row(row: RowMapping) -> dict[str, Any]:
    """A break as the JSON list shows it."""
    return BreakOut.model_validate(dict(row)).model_dump()


async def resolve(session: AsyncSession, *, break_id: int, body: ResolveIn, principal: Principal) -> BreakOut:
    """Settle one break, recording who and why (409 if it is no longer open)."""
    row = await repo.get_break(session, break_id)
    if row is None or (row["kelurahan_code"] is not None and not principal.covers(row["kelurahan_code"])):
        raise ProblemError(404, "No such break in your wilayah.", code="not_found")
    updated = await repo.resolve_break(
        session,
        break_id,
        {
            "resolved_by": principal.subject,
            "resolved_at": utcnow(),
            "resolution": body.resolution,
            "resolution_note": body.note,
        },
    )
    if updated is None:
        raise ProblemError(
            409, f"The break is already {row['status']}.", code="invalid_state", current_status=row["status"]
        )
    return BreakOut.model_validate(dict(updated))
