"""HTTP routes of imports: national extracts and external lists as background jobs, their status and errors."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from services.registry.families.changes import Actor
from services.registry.imports import extract, service
from services.registry.imports.list_parsing import ListKind
from services.registry.imports.progress import LIVE
from services.registry.imports.service import EXTRACT, create_job, new_job_path, run_job
from shared.auth.permissions import Permission
from shared.auth.principal import Principal, ScopeLevel
from shared.http.problems import ProblemError
from shared.http.security import require
from shared.runtime.dependencies import RuntimeDep, SessionDep
from shared.runtime.service import ServiceRuntime

router = APIRouter(tags=["imports"])
Importer = Annotated[Principal, Depends(require(Permission.IMPORT_DATA))]

CHUNK_BYTES = 1 << 20
MAX_BYTES = 4 << 30
# Background jobs are referenced here so the event loop does not drop them half-way.
_RUNNING: set[asyncio.Task[Any]] = set()


class JobOut(BaseModel):
    """An import job: status (queued/running/succeeded/failed), counts and where its error report is."""

    id: str
    kind: str
    status: str
    file_name: str
    file_bytes: int
    source: str
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, int] | None
    progress: dict[str, Any] | None = Field(
        default=None,
        description="phase (reading, checking, families, classifying, writing, desil, flags, status, events; lists: "
        "reading, matching), step of steps, rows_read, and the finished phases with their seconds",
    )
    error: str | None
    errors_url: str


class JobList(BaseModel):
    """Import jobs, newest first."""

    items: list[JobOut]


def _out(row: Any) -> JobOut:
    values = {k: row[k] for k in JobOut.model_fields if k != "errors_url"}
    live = LIVE.get(row["id"])
    if live is not None and row["status"] == "running":
        values["progress"] = live.snapshot()
    return JobOut(**values, errors_url=f"/imports/{row['id']}/errors")


def _kota_only(principal: Principal) -> None:
    # An extract or a Dukcapil list covers the whole city: only a kota-wide principal may run or read imports.
    if principal.scope_level is not ScopeLevel.KOTA:
        raise ProblemError(403, "Only a kota-wide principal may import data.", code="out_of_scope")


async def _save_body(request: Request, path: Path) -> tuple[str, int]:
    """Stream the upload (multipart field `file`, or a raw text/csv body) to `path`; (file name, bytes)."""
    size = 0
    content_type = request.headers.get("content-type", "")
    async with await anyio.open_file(path, "wb") as out:
        if content_type.startswith("multipart/form-data"):
            form = await request.form(max_files=1, max_fields=5)
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ProblemError(
                    422,
                    "Send the CSV as the multipart field 'file'.",
                    code="validation",
                    errors=[{"field": "file", "reason": "file.required"}],
                )
            name = upload.filename or "upload.csv"
            while chunk := await upload.read(CHUNK_BYTES):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise ProblemError(413, "The file is too large.", code="too_large")
                await out.write(chunk)
            await upload.close()
        else:
            name = request.headers.get("x-file-name", "upload.csv")
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise ProblemError(413, "The file is too large.", code="too_large")
                await out.write(chunk)
    if size == 0:
        raise ProblemError(
            422, "The file is empty.", code="validation", errors=[{"field": "file", "reason": "file.empty"}]
        )
    return name, size


async def _submit(
    request: Request, runtime: ServiceRuntime, principal: Principal, kind: str, source: str | None
) -> JSONResponse:
    _kota_only(principal)
    job_id, path = new_job_path(runtime.settings.data_dir)
    try:
        name, size = await _save_body(request, path)
    except BaseException:
        await anyio.Path(path).unlink(missing_ok=True)
        raise
    async with runtime.sessions() as session, session.begin():
        await create_job(
            session,
            job_id=job_id,
            kind=kind,
            file_name=name,
            path=path,
            size=size,
            actor=Actor(principal.subject, principal.role),
            wilayah=principal.wilayah,
            source=source,
        )
    task = asyncio.create_task(run_job(runtime.sessions, job_id, audit=runtime.audit), name=f"registry-import-{job_id}")
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    async with runtime.sessions() as session:
        row = await service.get_job(session, job_id=job_id)
    return JSONResponse(_out(row).model_dump(mode="json"), status_code=202, headers={"Location": f"/imports/{job_id}"})


@router.post(
    "/imports/extracts",
    status_code=202,
    response_model=JobOut,
    summary="Import a national (DTSEN) extract as a background job",
    description=(extract.__doc__ or "")
    + "\n\nSend the CSV as multipart field `file` or as a raw `text/csv` body (name in `X-File-Name`). "
    "Answers 202 with the job; poll `GET /imports/{id}`.",
)
async def submit_extract(request: Request, runtime: RuntimeDep, principal: Importer) -> JSONResponse:
    return await _submit(request, runtime, principal, EXTRACT, None)


@router.post(
    "/imports/lists/{kind}",
    status_code=202,
    response_model=JobOut,
    summary="Import an external list (death: nik, tanggal_meninggal, no_akta_kematian; "
    "excluded: nik, kategori, instansi) as a background job",
)
async def submit_list(
    kind: ListKind,
    request: Request,
    runtime: RuntimeDep,
    principal: Importer,
    source: Annotated[str | None, Query(max_length=50, pattern=r"^[a-z0-9_]+$")] = None,
) -> JSONResponse:
    return await _submit(request, runtime, principal, kind.value, source)


@router.get("/imports", response_model=JobList, summary="Import jobs, newest first")
async def list_jobs(
    session: SessionDep,
    principal: Importer,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> JobList:
    _kota_only(principal)
    return JobList(items=[_out(r) for r in await service.list_jobs(session, limit=limit)])


@router.get("/imports/{job_id}", response_model=JobOut, summary="One import job: status and counts")
async def get_job(job_id: str, session: SessionDep, principal: Importer) -> JobOut:
    _kota_only(principal)
    return _out(await service.get_job(session, job_id=job_id))


@router.get(
    "/imports/{job_id}/errors",
    summary="The per-row error report (CSV: row, field, reason; header = row 1)",
    response_class=StreamingResponse,
)
async def job_errors(job_id: str, runtime: RuntimeDep, session: SessionDep, principal: Importer) -> StreamingResponse:
    _kota_only(principal)
    await service.get_job(session, job_id=job_id)
    return StreamingResponse(
        service.error_report(runtime.sessions, job_id=job_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{job_id}-errors.csv"'},
    )
