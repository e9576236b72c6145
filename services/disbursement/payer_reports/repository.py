"""Set-based application of a staged payer report: resolve, check, record, apply, report errors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Text, and_, case, cast, delete, exists, func, literal, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.payer_reports.models import (
    payer_report,
    payer_report_error,
    payer_report_row,
    payer_report_staging,
)
from services.disbursement.payer_reports.parsing import STAGING_COLUMNS, RowError
from services.disbursement.payments.events import emit_line_status
from services.disbursement.payments.models import payment_line
from services.disbursement.payments.rules import IMPORTABLE, sources_of
from shared.db.dialect import analyze, bulk_settings, insert_for, is_pg

staged_rows = payer_report_staging.c
payment_lines = payment_line.c


async def claim_report(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert the report row; False when a file with the same sha256 was imported before (it changes nothing)."""
    stmt = (
        insert_for(session, payer_report)
        .values(values)
        .on_conflict_do_nothing(index_elements=["file_sha256"])
        .returning(payer_report.c.id)
    )
    return (await session.execute(stmt)).first() is not None


async def report_by_sha(session: AsyncSession, sha: str) -> RowMapping | None:
    """The report imported from a file with this content."""
    stmt = select(payer_report).where(payer_report.c.file_sha256 == sha)
    return (await session.execute(stmt)).mappings().first()


async def get_report(session: AsyncSession, report_id: str) -> RowMapping | None:
    """One report."""
    return (await session.execute(select(payer_report).where(payer_report.c.id == report_id))).mappings().first()


async def stage(session: AsyncSession, records: Sequence[tuple[Any, ...]], schema: str | None) -> None:
    """Load a batch of staging records: COPY on PostgreSQL, executemany on SQLite."""
    if not records:
        return
    if is_pg(session):
        conn = await session.connection()
        raw = await conn.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            "payer_report_staging", records=records, columns=STAGING_COLUMNS, schema_name=schema
        )
    else:
        await session.execute(
            payer_report_staging.insert(), [dict(zip(STAGING_COLUMNS, r, strict=True)) for r in records]
        )


async def record_parse_errors(session: AsyncSession, report_id: str, errors: Sequence[RowError]) -> None:
    """Store rows that could not be staged."""
    if errors:
        await session.execute(
            payer_report_error.insert(),
            [
                {
                    "report_id": report_id,
                    "row_no": e.row_no,
                    "line_key": e.line_key,
                    "reason": e.reason,
                    "detail": e.detail,
                }
                for e in errors
            ],
        )


def _mine(report_id: str) -> Any:
    return and_(staged_rows.report_id == report_id, staged_rows.outcome.is_(None))


async def apply_report(session: AsyncSession, *, report_id: str, tahap_id: str, now: datetime) -> dict[str, int]:
    """Apply staged rows to the lines of a tahap; returns counts of applied / duplicate / error rows."""
    if is_pg(session):
        await bulk_settings(session)
    await analyze(session, "payer_report_staging", "payment_line")
    # 1. Identity: rows named by (programme, tahap, household) get their line id.
    await session.execute(
        update(payer_report_staging)
        .where(
            staged_rows.report_id == report_id,
            staged_rows.line_id.is_(None),
            payment_lines.programme_code == staged_rows.programme_code,
            payment_lines.tahap_id == staged_rows.tahap_id,
            payment_lines.household_id == staged_rows.household_id,
        )
        .values(line_id=payment_lines.line_id)
    )
    own_line = exists().where(payment_lines.line_id == staged_rows.line_id, payment_lines.tahap_id == tahap_id)
    await session.execute(
        update(payer_report_staging).where(_mine(report_id), ~own_line).values(outcome="error", error="unknown_line")
    )
    mismatch = exists().where(
        payment_lines.line_id == staged_rows.line_id,
        staged_rows.household_id.is_not(None),
        payment_lines.household_id != staged_rows.household_id,
    )
    await session.execute(
        update(payer_report_staging)
        .where(_mine(report_id), mismatch)
        .values(outcome="error", error="identity_mismatch")
    )
    # Rows named by their natural identity take the key of their line ('L:<id>', what rows naming the line_id
    # already carry), so a line reported both ways is recognised as the same line.
    await session.execute(
        update(payer_report_staging)
        .where(staged_rows.report_id == report_id, staged_rows.outcome.is_(None), staged_rows.line_key.like("K:%"))
        .values(line_key=literal("L:") + cast(staged_rows.line_id, Text))
    )
    # 2. Natural key: a row already recorded (this file or another one) changes nothing.
    r = payer_report_row.c
    seen = exists().where(
        r.tahap_id == tahap_id,
        r.line_key == staged_rows.line_key,
        r.status == staged_rows.status,
        r.reference == staged_rows.reference,
    )
    twin = payer_report_staging.alias("twin")
    earlier = exists().where(
        twin.c.report_id == report_id,
        twin.c.line_key == staged_rows.line_key,
        twin.c.status == staged_rows.status,
        twin.c.reference == staged_rows.reference,
        twin.c.row_no < staged_rows.row_no,
    )
    # Two statements, not one with OR: each EXISTS alone becomes a semi-join instead of a per-row subplan.
    for repeated in (seen, earlier):
        await session.execute(
            update(payer_report_staging)
            .where(staged_rows.report_id == report_id, staged_rows.outcome.is_distinct_from("error"), repeated)
            .values(outcome="duplicate")
        )
    # 3. Amounts: a payer must report the planned amount; a return cannot exceed it.
    await session.execute(
        update(payer_report_staging)
        .where(
            _mine(report_id),
            payment_lines.line_id == staged_rows.line_id,
            or_(
                and_(
                    staged_rows.status.in_(["at_payer", "paid", "failed"]), staged_rows.amount != payment_lines.amount
                ),
                and_(staged_rows.status == "returned", staged_rows.amount > payment_lines.amount),
            ),
        )
        .values(
            outcome="error",
            error=case((staged_rows.status == "returned", "returned_more_than_paid"), else_="amount_differs"),
        )
    )
    # 4. What payers said is kept (except exact repeats) for reconciliation, including rows that did not apply.
    cols = [
        "report_id",
        "row_no",
        "tahap_id",
        "line_id",
        "line_key",
        "status",
        "amount",
        "event_date",
        "reference",
        "failure_reason",
    ]
    source = select(
        staged_rows.report_id,
        staged_rows.row_no,
        literal(tahap_id),
        staged_rows.line_id,
        staged_rows.line_key,
        staged_rows.status,
        staged_rows.amount,
        staged_rows.event_date,
        staged_rows.reference,
        staged_rows.failure_reason,
    ).where(
        staged_rows.report_id == report_id,
        staged_rows.outcome.is_distinct_from("duplicate"),
        staged_rows.error.is_distinct_from("identity_mismatch"),
    )
    await session.execute(insert_for(session, payer_report_row).from_select(cols, source).on_conflict_do_nothing())
    await analyze(session, "payer_report_row")
    # 5. Apply in pipeline order, the first row per line and status, only along allowed transitions.
    for status in IMPORTABLE:
        # The first pending row per line, as one grouped pass (not a subquery per row).
        pending = payer_report_staging.alias("pending")
        first = (
            select(pending.c.line_id, func.min(pending.c.row_no).label("row_no"))
            .where(pending.c.report_id == report_id, pending.c.status == status.value, pending.c.outcome.is_(None))
            .group_by(pending.c.line_id)
            .subquery("first")
        )
        await session.execute(
            update(payer_report_staging)
            .where(
                _mine(report_id),
                staged_rows.status == status.value,
                first.c.line_id == staged_rows.line_id,
                first.c.row_no == staged_rows.row_no,
                payment_lines.line_id == staged_rows.line_id,
                payment_lines.status.in_(sorted(s.value for s in sources_of(status))),
            )
            .values(outcome="applied")
        )
        values: dict[str, Any] = {"status": staged_rows.status, "version": payment_lines.version + 1, "updated_at": now}
        if status.value == "paid":
            values.update(
                paid_amount=staged_rows.amount,
                paid_on=func.coalesce(staged_rows.event_date, now.date()),
                payer_reference=staged_rows.reference,
            )
        elif status.value == "failed":
            values.update(failure_reason=staged_rows.failure_reason)
        elif status.value == "returned":
            values.update(
                returned_amount=staged_rows.amount, returned_on=func.coalesce(staged_rows.event_date, now.date())
            )
        await session.execute(
            update(payment_line)
            .where(
                staged_rows.report_id == report_id,
                staged_rows.outcome == "applied",
                staged_rows.status == status.value,
                staged_rows.line_id == payment_lines.line_id,
            )
            .values(values)
        )
    # 6. Whatever is left could not move its line from where it is.
    current = select(payment_lines.status).where(payment_lines.line_id == staged_rows.line_id).scalar_subquery()
    await session.execute(
        update(payer_report_staging)
        .where(_mine(report_id))
        .values(outcome="error", error=literal("invalid_from_") + func.coalesce(current, "unknown"))
    )
    # 7. Events (one per line changed, with its resulting status) and the error report. The outcomes are new
    # to the planner: told how many rows were applied, it joins them to their lines by hash, not row by row.
    await analyze(session, "payer_report_staging", columns=("report_id", "outcome", "line_id"))
    applied_lines = select(staged_rows.line_id).where(
        staged_rows.report_id == report_id, staged_rows.outcome == "applied"
    )
    await emit_line_status(session, payment_lines.line_id.in_(applied_lines))
    await session.execute(
        payer_report_error.insert().from_select(
            ["report_id", "row_no", "line_key", "reason", "detail"],
            select(
                staged_rows.report_id, staged_rows.row_no, staged_rows.line_key, staged_rows.error, literal(None)
            ).where(staged_rows.report_id == report_id, staged_rows.outcome == "error"),
        )
    )
    counts: dict[str | None, int] = dict(
        (
            await session.execute(
                select(staged_rows.outcome, func.count())
                .where(staged_rows.report_id == report_id)
                .group_by(staged_rows.outcome)
            )
        ).all()  # type: ignore[arg-type]
    )
    await session.execute(delete(payer_report_staging).where(staged_rows.report_id == report_id))
    return {k: int(counts.get(k, 0)) for k in ("applied", "duplicate", "error")}


async def finish_report(session: AsyncSession, report_id: str, values: dict[str, int]) -> RowMapping:
    """Store the counts of an import; returns the report row."""
    stmt = update(payer_report).where(payer_report.c.id == report_id).values(values).returning(*payer_report.c)
    return (await session.execute(stmt)).mappings().one()


def errors_query(report_id: str) -> Select[Any]:
    """The per-row error report, by row number (the list and its exports)."""
    e = payer_report_error.c
    return select(payer_report_error).where(e.report_id == report_id).order_by(e.row_no)


async def list_errors(session: AsyncSession, report_id: str, limit: int, offset: int) -> list[RowMapping]:
    """A page of the per-row error report."""
    stmt = errors_query(report_id).limit(limit).offset(offset)
    return list((await session.execute(stmt)).mappings().all())
