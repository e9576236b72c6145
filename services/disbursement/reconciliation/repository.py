"""Set-based break detection and the queries of the break queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, and_, cast, exists, func, literal, null, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.households.models import household_status
from services.disbursement.payer_reports.models import payer_report_row
from services.disbursement.payments.models import payment_line
from services.disbursement.reconciliation.models import reconciliation_break
from shared.db.dialect import bulk_settings, insert_for, is_pg

r = payer_report_row.c
payment_lines = payment_line.c
b = reconciliation_break.c
BREAK_COLUMNS = [
    "tahap_id",
    "kind",
    "line_key",
    "line_id",
    "household_id",
    "kecamatan_code",
    "kelurahan_code",
    "expected_amount",
    "reported_amount",
    "status",
    "detected_at",
]


def _line_cols(kind: str, tahap_id: str, reported: Any, now: datetime) -> list[Any]:
    return [
        literal(tahap_id),
        literal(kind),
        literal("L:") + cast(payment_lines.line_id, Text),
        payment_lines.line_id,
        payment_lines.household_id,
        payment_lines.kecamatan_code,
        payment_lines.kelurahan_code,
        payment_lines.amount,
        reported,
        literal("open"),
        literal(now),
    ]


def detection_queries(tahap_id: str, now: datetime) -> dict[str, Any]:
    """One SELECT per break kind, each producing rows of BREAK_COLUMNS."""
    own = and_(payment_lines.line_id == r.line_id, payment_lines.tahap_id == tahap_id)
    unknown = (
        select(
            literal(tahap_id),
            literal("unknown_line"),
            r.line_key,
            null(),
            null(),
            null(),
            null(),
            null(),
            func.max(r.amount),
            literal("open"),
            literal(now),
        )
        .where(r.tahap_id == tahap_id, ~exists().where(own))
        .group_by(r.line_key)
    )
    differs = (
        select(*_line_cols("amount_differs", tahap_id, func.max(r.amount), now))
        .join(payer_report_row, own)
        .where(r.tahap_id == tahap_id, r.status.in_(["at_payer", "paid", "failed"]), r.amount != payment_lines.amount)
        .group_by(*payment_lines)
    )
    paid_rows = (
        select(r.line_id, func.count().label("n"), func.max(r.amount).label("amount"))
        .where(r.tahap_id == tahap_id, r.status == "paid", r.line_id.is_not(None))
        .group_by(r.line_id)
        .subquery("paid_rows")
    )
    twice = (
        select(*_line_cols("paid_twice", tahap_id, paid_rows.c.amount, now))
        .join(paid_rows, paid_rows.c.line_id == payment_lines.line_id)
        .where(payment_lines.tahap_id == tahap_id, paid_rows.c.n > 1)
    )
    on_hold = (
        select(*_line_cols("paid_while_on_hold", tahap_id, paid_rows.c.amount, now))
        .join(paid_rows, paid_rows.c.line_id == payment_lines.line_id)
        .where(payment_lines.tahap_id == tahap_id, payment_lines.status.in_(["on_hold", "cancelled"]))
    )
    h = household_status.c
    after = (
        select(*_line_cols("paid_after_deactivation", tahap_id, payment_lines.paid_amount, now))
        .join(household_status, h.household_id == payment_lines.household_id)
        .where(
            payment_lines.tahap_id == tahap_id,
            payment_lines.status.in_(["paid", "disputed"]),
            h.inactive_since.is_not(None),
            payment_lines.paid_on >= h.inactive_since,
        )
    )
    returns = (
        select(r.line_id, func.sum(r.amount).label("amount"))
        .where(r.tahap_id == tahap_id, r.status == "returned", r.line_id.is_not(None))
        .group_by(r.line_id)
        .subquery("returns")
    )
    returned_more = (
        select(*_line_cols("returned_more_than_paid", tahap_id, returns.c.amount, now))
        .join(returns, returns.c.line_id == payment_lines.line_id)
        .where(
            payment_lines.tahap_id == tahap_id,
            returns.c.amount > func.coalesce(payment_lines.paid_amount, payment_lines.amount),
        )
    )
    return {
        "unknown_line": unknown,
        "amount_differs": differs,
        "paid_twice": twice,
        "paid_while_on_hold": on_hold,
        "paid_after_deactivation": after,
        "returned_more_than_paid": returned_more,
    }


async def detect_breaks(session: AsyncSession, tahap_id: str, now: datetime) -> None:
    """Insert every mismatch not already in the queue (the unique key makes re-running a no-op)."""
    if is_pg(session):
        await bulk_settings(session)
    for query in detection_queries(tahap_id, now).values():
        stmt = insert_for(session, reconciliation_break).from_select(BREAK_COLUMNS, query)
        await session.execute(stmt.on_conflict_do_nothing(index_elements=["tahap_id", "kind", "line_key"]))


async def line_totals(session: AsyncSession, tahap_id: str) -> list[tuple[str, int, int, int, int]]:
    """(status, lines, planned amount, paid amount, returned amount) of a tahap."""
    stmt = (
        select(
            payment_lines.status,
            func.count(),
            func.coalesce(func.sum(payment_lines.amount), 0),
            func.coalesce(func.sum(payment_lines.paid_amount), 0),
            func.coalesce(func.sum(payment_lines.returned_amount), 0),
        )
        .where(payment_lines.tahap_id == tahap_id)
        .group_by(payment_lines.status)
    )
    return [(s, int(n), int(a), int(p), int(rt)) for s, n, a, p, rt in (await session.execute(stmt)).all()]


async def break_counts(session: AsyncSession, tahap_id: str, scope: ColumnElement[bool]) -> dict[str, int]:
    """Open breaks per kind."""
    stmt = select(b.kind, func.count()).where(b.tahap_id == tahap_id, b.status == "open", scope).group_by(b.kind)
    return {k: int(n) for k, n in (await session.execute(stmt)).all()}


def breaks_query(*, tahap_id: str, scope: ColumnElement[bool], status: str | None, kind: str | None) -> Select[Any]:
    """The break queue of a tahap, filtered, by id (the list and its exports)."""
    stmt = select(reconciliation_break).where(b.tahap_id == tahap_id, scope)
    if status:
        stmt = stmt.where(b.status == status)
    if kind:
        stmt = stmt.where(b.kind == kind)
    return stmt.order_by(b.id)


async def list_breaks(
    session: AsyncSession,
    *,
    tahap_id: str,
    scope: ColumnElement[bool],
    status: str | None,
    kind: str | None,
    limit: int,
    offset: int,
) -> list[RowMapping]:
    """A page of the break queue."""
    stmt = breaks_query(tahap_id=tahap_id, scope=scope, status=status, kind=kind).limit(limit).offset(offset)
    return list((await session.execute(stmt)).mappings().all())


async def get_break(session: AsyncSession, break_id: int) -> RowMapping | None:
    """One break."""
    return (await session.execute(select(reconciliation_break).where(b.id == break_id))).mappings().first()


async def resolve_break(session: AsyncSession, break_id: int, values: dict[str, Any]) -> RowMapping | None:
    """Guarded: only an open break can be resolved."""
    stmt = (
        update(reconciliation_break)
        .where(b.id == break_id, b.status == "open")
        .values(status="resolved", **values)
        .returning(*reconciliation_break.c)
    )
    return (await session.execute(stmt)).mappings().first()


async def queue_complaint_break(
    session: AsyncSession, *, line_id: int, kind: str, reference: str, detected_at: datetime
) -> int:
    """A break-queue entry for one payment line a complaint asks about (kind `complaint` or `payer_inquiry`), keyed
    by the complaint's reference so a redelivered event adds nothing. Returns the entries added (0: none or no
    such line)."""
    line = select(
        payment_lines.tahap_id,
        literal(kind),
        literal(f"complaint:{reference}"),
        payment_lines.line_id,
        payment_lines.household_id,
        payment_lines.kecamatan_code,
        payment_lines.kelurahan_code,
        payment_lines.amount,
        null(),
        literal("open"),
        literal(detected_at, reconciliation_break.c.detected_at.type),
    ).where(payment_lines.line_id == line_id)
    stmt = insert_for(session, reconciliation_break).from_select(BREAK_COLUMNS, line)
    result = await session.execute(stmt.on_conflict_do_nothing(index_elements=["tahap_id", "kind", "line_key"]))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
