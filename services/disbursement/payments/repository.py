"""Queries of payment lines."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.payments.models import payment_line

payment_lines = payment_line.c


async def get_line(session: AsyncSession, line_id: int) -> RowMapping | None:
    """One line."""
    return (await session.execute(select(payment_line).where(payment_lines.line_id == line_id))).mappings().first()


async def guarded_line_update(
    session: AsyncSession, line_id: int, expected: str, values: dict[str, Any]
) -> RowMapping | None:
    """UPDATE … WHERE status = expected; None when the line moved meanwhile."""
    stmt = (
        update(payment_line)
        .where(payment_lines.line_id == line_id, payment_lines.status == expected)
        .values(version=payment_lines.version + 1, **values)
        .returning(*payment_line.c)
    )
    return (await session.execute(stmt)).mappings().first()


async def advance_lines(session: AsyncSession, tahap_id: str, source: str, target: str, now: Any) -> int:
    """Move every line of a tahap in `source` to `target` in one UPDATE; returns how many moved."""
    stmt = (
        update(payment_line)
        .where(payment_lines.tahap_id == tahap_id, payment_lines.status == source)
        .values(status=target, version=payment_lines.version + 1, updated_at=now)
    )
    return int((await session.execute(stmt)).rowcount or 0)  # type: ignore[attr-defined]


def lines_query(*, tahap_id: str, scope: ColumnElement[bool], status: str | None) -> Select[Any]:
    """A tahap's lines in the caller's scope, by line id (the list and its exports)."""
    stmt = select(payment_line).where(payment_lines.tahap_id == tahap_id, scope)
    if status:
        stmt = stmt.where(payment_lines.status == status)
    return stmt.order_by(payment_lines.line_id)


async def list_lines(
    session: AsyncSession, *, tahap_id: str, scope: ColumnElement[bool], status: str | None, limit: int, offset: int
) -> list[RowMapping]:
    """A page of a tahap's lines in the caller's scope."""
    stmt = lines_query(tahap_id=tahap_id, scope=scope, status=status).limit(limit).offset(offset)
    return list((await session.execute(stmt)).mappings().all())
