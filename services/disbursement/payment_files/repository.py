"""Queries of payment instruction files: the lines a file pays, the programme's channel, the record on the tahap."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.payment_files.builders import Line
from services.disbursement.payments.models import payment_line
from services.disbursement.payments.rules import UNPAID
from services.disbursement.programmes.models import programme
from services.disbursement.tahap_state.repository import guarded_update

payment_lines = payment_line.c


async def channel_of(session: AsyncSession, programme_code: str) -> str | None:
    """The programme's payment channel (bank_kks / pos / bpjs)."""
    stmt = select(programme.c.channel).where(programme.c.code == programme_code)
    return (await session.execute(stmt)).scalar_one_or_none()


async def unpaid_lines(session: AsyncSession, tahap_id: str) -> AsyncIterator[Line]:
    """The lines still to be paid (never held, cancelled or already settled ones), in the files' fixed order."""
    stmt = (
        select(
            payment_lines.line_id,
            payment_lines.household_id,
            payment_lines.kecamatan_code,
            payment_lines.kelurahan_code,
            payment_lines.amount,
        )
        .where(payment_lines.tahap_id == tahap_id, payment_lines.status.in_(sorted(s.value for s in UNPAID)))
        .order_by(payment_lines.kecamatan_code, payment_lines.kelurahan_code, payment_lines.line_id)
        .execution_options(yield_per=5000)
    )
    async for row in await session.stream(stmt):
        yield Line(int(row[0]), row[1], row[2], row[3], int(row[4]))


async def record_file(session: AsyncSession, tahap_id: str, values: dict[str, Any]) -> RowMapping | None:
    """Store the newest file's kind, hash and totals on the tahap while it is approved or paying."""
    return await guarded_update(session, tahap_id, frozenset({"approved", "paying"}), values)
