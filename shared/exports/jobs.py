"""Large exports as jobs: the file is written in the background to the service's export folder, with progress
(rows written / total) on `GET /exports/{id}` and an authorised, audited download at `GET /exports/{id}/file`.

An export runs as a job when the caller asks (`?async=true`) or when the list holds more rows than
`export_job_rows`. The job keeps who asked, with which role, wilayah and permission: the rows were chosen and
masked for that caller, so only that caller (still holding the list's permission) may read the job or its file.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import BigInteger, Column, DateTime, Index, MetaData, Select, String, Table, Text, func, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.auth.permissions import Permission, allowed
from shared.auth.principal import Principal
from shared.context import request_id_var
from shared.events.envelope import utcnow
from shared.exports.response import MEDIA, FileFormat, export_response
from shared.exports.tabular import Column as ExportColumn
from shared.exports.tabular import csv_chunks, xlsx_chunks
from shared.http.problems import ProblemError
from shared.http.security import CurrentPrincipal
from shared.runtime.dependencies import RuntimeDep, SessionDep
from shared.runtime.service import ServiceRuntime

RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"
# Rows between two progress updates of a job row (each one a short transaction of its own).
PROGRESS_EVERY = 2000
# The `?async=true` switch of every export route.
AsJob = Annotated[bool, Query(alias="async", description="Run as a job: answer 202 with its progress URL.")]
_TASKS: set[asyncio.Task[None]] = set()


def define_export_job_table(metadata: MetaData) -> Table:
    """Declare the export_job table on a service's metadata (each service that runs export jobs has its own)."""
    return Table(
        "export_job",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("name", String(100), nullable=False),
        Column("format", String(10), nullable=False),
        Column("status", String(20), nullable=False),
        Column("rows_written", BigInteger, nullable=False),
        Column("rows_total", BigInteger, nullable=False),
        Column("requested_by", String(100), nullable=False),
        Column("requested_role", String(40), nullable=False),
        Column("wilayah", String(20), nullable=False),
        Column("permission", String(100), nullable=False),
        Column("file_path", Text, nullable=True),
        Column("size_bytes", BigInteger, nullable=True),
        Column("sha256", String(64), nullable=True),
        Column("error", Text, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("finished_at", DateTime(timezone=True), nullable=True),
        Index("ix_export_job_requested_by", "requested_by", "created_at"),
    )


class ExportJobOut(BaseModel):
    """An export job: status, rows written of the total, and the download link once the file is there."""

    id: str
    name: str
    format: str
    status: str
    rows_written: int
    rows_total: int
    progress: float
    created_at: datetime
    finished_at: datetime | None
    size_bytes: int | None
    sha256: str | None
    error: str | None
    download: str | None


def job_out(row: Mapping[str, Any]) -> ExportJobOut:
    """The job as the API shows it."""
    total, written = int(row["rows_total"]), int(row["rows_written"])
    return ExportJobOut(
        id=row["id"],
        name=row["name"],
        format=row["format"],
        status=row["status"],
        rows_written=written,
        rows_total=total,
        progress=1.0 if row["status"] == SUCCEEDED else (round(written / total, 4) if total else 0.0),
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        size_bytes=row["size_bytes"],
        sha256=row["sha256"],
        error=row["error"],
        download=f"/exports/{row['id']}/file" if row["status"] == SUCCEEDED else None,
    )


async def count_rows(sessions: async_sessionmaker[AsyncSession], query: Select[Any]) -> int:
    """How many rows the export query yields."""
    async with sessions() as session:
        stmt = select(func.count()).select_from(query.order_by(None).subquery())
        return int((await session.execute(stmt)).scalar_one())


async def export_or_job(
    runtime: ServiceRuntime,
    table: Table,
    principal: Principal,
    *,
    permission: Permission,
    fmt: FileFormat,
    columns: Sequence[ExportColumn],
    rows: AsyncIterator[Mapping[str, Any]],
    name: str,
    query: Select[Any],
    as_job: bool,
) -> Response:
    """The export streamed in the response, or (asked for, or more rows than `export_job_rows`) a job: 202."""
    total = await count_rows(runtime.sessions, query)
    if not as_job and total <= runtime.settings.export_job_rows:
        return export_response(fmt, columns, rows, name=name)
    job_id = str(uuid.uuid4())
    folder: Path = runtime.settings.exports_path
    await anyio.Path(folder).mkdir(parents=True, exist_ok=True)
    path = folder / f"{job_id}.{fmt}"
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            insert(table).values(
                id=job_id,
                name=name,
                format=fmt,
                status=RUNNING,
                rows_written=0,
                rows_total=total,
                requested_by=principal.subject,
                requested_role=str(principal.role),
                wilayah=principal.wilayah,
                permission=permission.name,
                created_at=utcnow(),
            )
        )
    task = asyncio.create_task(
        run_export_job(runtime.sessions, table, job_id, path, fmt, columns, rows, sheet=name), name=f"export-{job_id}"
    )
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)
    async with runtime.sessions() as session:
        row = (await session.execute(select(table).where(table.c.id == job_id))).mappings().one()
    return JSONResponse(
        job_out(dict(row)).model_dump(mode="json"), status_code=202, headers={"Location": f"/exports/{job_id}"}
    )


async def run_export_job(
    sessions: async_sessionmaker[AsyncSession],
    table: Table,
    job_id: str,
    path: Path,
    fmt: FileFormat,
    columns: Sequence[ExportColumn],
    rows: AsyncIterator[Mapping[str, Any]],
    *,
    sheet: str,
) -> None:
    """Write the file (to a temporary name, renamed when complete), recording rows written as it goes."""

    async def set_values(**values: Any) -> None:
        async with sessions() as session, session.begin():
            await session.execute(sql_update(table).where(table.c.id == job_id).values(**values))

    written = 0

    async def counted() -> AsyncIterator[Mapping[str, Any]]:
        nonlocal written
        async for row in rows:
            yield row
            written += 1
            if written % PROGRESS_EVERY == 0:
                await set_values(rows_written=written)

    partial = path.with_name(path.name + ".part")
    digest = hashlib.sha256()
    size = 0
    try:
        body = csv_chunks(columns, counted()) if fmt == "csv" else xlsx_chunks(columns, counted(), sheet=sheet)
        with partial.open("wb") as out:
            async for chunk in body:
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        os.replace(partial, path)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        await set_values(status=FAILED, rows_written=written, error=str(exc)[:2000], finished_at=utcnow())
        return
    # The list may have changed since it was counted: the total is what the file holds.
    await set_values(
        status=SUCCEEDED,
        rows_written=written,
        rows_total=written,
        file_path=str(path),
        size_bytes=size,
        sha256=digest.hexdigest(),
        finished_at=utcnow(),
    )


async def _own_job(session: AsyncSession, table: Table, job_id: str, principal: Principal) -> Mapping[str, Any]:
    row = (await session.execute(select(table).where(table.c.id == job_id))).mappings().first()
    # Another caller's job does not exist for this one: its rows were chosen and masked for its requester.
    if row is None or row["requested_by"] != principal.subject or row["wilayah"] != principal.wilayah:
        raise ProblemError(404, "No such export job.", code="not_found")
    if not allowed(principal.role, Permission[row["permission"]]):
        raise ProblemError(403, "Your role may no longer read this list.", code="forbidden")
    return dict(row)


def export_jobs_router(table: Table) -> APIRouter:
    """`GET /exports/{id}` (status and progress) and `GET /exports/{id}/file` (the download, audited)."""
    router = APIRouter(tags=["exports"])

    @router.get("/exports/{job_id}", response_model=ExportJobOut, summary="An export job: status and progress")
    async def get_export(job_id: str, session: SessionDep, principal: CurrentPrincipal) -> ExportJobOut:
        """Rows written of the total; `download` is set once the file is complete."""
        return job_out(await _own_job(session, table, job_id, principal))

    @router.get(
        "/exports/{job_id}/file",
        summary="Download the file of a finished export job",
        responses={200: {"content": {MEDIA["csv"].split(";")[0]: {}, MEDIA["xlsx"]: {}}}},
        response_class=FileResponse,
    )
    async def download_export(
        job_id: str, session: SessionDep, runtime: RuntimeDep, principal: CurrentPrincipal
    ) -> FileResponse:
        """Only the caller who asked for the export, while their role still reads the list; every download is
        written to the audit log."""
        row = await _own_job(session, table, job_id, principal)
        if row["status"] != SUCCEEDED:
            raise ProblemError(409, f"The export is {row['status']}, not ready.", code="export_not_ready")
        if not await anyio.Path(row["file_path"]).is_file():
            raise ProblemError(410, "The export's file is no longer kept; export the list again.", code="export_gone")
        await runtime.audit.record(
            session,
            actor=principal.subject,
            role=str(principal.role),
            action="download export",
            record_type="export_job",
            record_id=job_id,
            after={"name": row["name"], "rows": row["rows_written"], "sha256": row["sha256"]},
            request_id=request_id_var.get(),
        )
        return FileResponse(
            row["file_path"], media_type=MEDIA[row["format"]], filename=f"{row['name']}.{row['format']}"
        )

    return router
