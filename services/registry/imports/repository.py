"""Queries over import jobs and their error reports (the import itself is set-based SQL in merge/events/flags)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, RowMapping, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.imports.models import import_error, import_job


async def job_row(session: AsyncSession, job_id: str) -> RowMapping | None:
    """The import job, None if there is none with this id."""
    return (await session.execute(select(import_job).where(import_job.c.id == job_id))).mappings().first()


async def job_rows(session: AsyncSession, limit: int) -> Sequence[RowMapping]:
    """The newest `limit` import jobs, newest first."""
    rows = await session.execute(select(import_job).order_by(import_job.c.created_at.desc()).limit(limit))
    return rows.mappings().all()


async def error_rows(session: AsyncSession, job_id: str, after: tuple[int, int], limit: int) -> Sequence[Row[Any]]:
    """The next `limit` errors of a job after (row_no, id) `after`, in report order."""
    return (
        await session.execute(
            select(import_error.c.id, import_error.c.row_no, import_error.c.field, import_error.c.reason)
            .where(
                import_error.c.import_id == job_id,
                (import_error.c.row_no > after[0])
                | ((import_error.c.row_no == after[0]) & (import_error.c.id > after[1])),
            )
            .order_by(import_error.c.row_no, import_error.c.id)
            .limit(limit)
        )
    ).all()
