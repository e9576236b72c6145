"""Import jobs: a file stored in the data folder, run once (by the API in the background or by the CLI).

A job is one transaction: stage (COPY), validate, merge, flag, emit. It either lands whole or not at all;
its status, counts and error report stay in `import_job` / `import_error`."""

from __future__ import annotations

import csv
import io
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from contextlib import aclosing
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import RowMapping, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.domain.identifiers import today_wib
from services.registry.families.changes import Actor
from services.registry.families.rules import Source
from services.registry.imports import repository
from services.registry.imports.audit import file_sha256, record_job
from services.registry.imports.extract import Chunk, ExtractFormatError, open_extract, read_chunks
from services.registry.imports.list_parsing import DEFAULT_SOURCE, ListKind, read_list_chunks
from services.registry.imports.lists import match_list
from services.registry.imports.merge import merge_extract
from services.registry.imports.models import import_error, import_job, import_list_row, import_row
from services.registry.imports.pipeline import EncodedChunk, validated_chunks
from services.registry.imports.progress import EXTRACT_PHASES, LIST_PHASES, LIVE, ImportProgress
from services.registry.imports.staging import (
    add_bad_rows,
    add_errors,
    clear_staging,
    copy_csv,
    copy_records,
    create_indexes,
    drop_indexes,
    lock_imports,
)
from shared.audit.chain import AuditLog
from shared.db.dialect import bulk_settings, is_pg
from shared.events.envelope import utcnow
from shared.http.problems import ProblemError
from shared.runtime.retry import Backoff, is_transient

log = logging.getLogger(__name__)
T = TypeVar("T")

EXTRACT = "extract"
KINDS = (EXTRACT, ListKind.DEATH.value, ListKind.EXCLUDED.value)


def import_dir(data_dir: Path) -> Path:
    """Where uploaded files are kept (one file per job)."""
    path = data_dir / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_job_path(data_dir: Path) -> tuple[str, Path]:
    """A fresh job id and the path its file goes to."""
    job_id = str(uuid.uuid4())
    return job_id, import_dir(data_dir) / f"{job_id}.csv"


async def create_job(
    session: AsyncSession,
    *,
    job_id: str,
    kind: str,
    file_name: str,
    path: Path,
    size: int,
    actor: Actor,
    wilayah: str,
    source: str | None = None,
) -> None:
    """Record a queued job for a stored file."""
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}")
    await session.execute(
        insert(import_job).values(
            id=job_id,
            kind=kind,
            status="queued",
            file_name=file_name[:300],
            file_path=str(path),
            file_bytes=size,
            source=source or (Source.DTSEN_IMPORT.value if kind == EXTRACT else DEFAULT_SOURCE[ListKind(kind)]),
            created_by=actor.subject,
            created_role=actor.role,
            wilayah=wilayah,
            created_at=utcnow(),
        )
    )


async def get_job(session: AsyncSession, *, job_id: str) -> RowMapping:
    """The import job; 404 if there is none."""
    row = await repository.job_row(session, job_id)
    if row is None:
        raise ProblemError(404, "No such import job.", code="not_found")
    return row


async def list_jobs(session: AsyncSession, *, limit: int) -> list[RowMapping]:
    """The newest import jobs, newest first."""
    return list(await repository.job_rows(session, limit))


async def error_report(sessions: async_sessionmaker[AsyncSession], *, job_id: str) -> AsyncIterator[str]:
    """The job's error report as CSV text (row, field, reason), 5,000 errors per chunk, each read in its own short
    session so a slow download holds no connection."""
    yield "row,field,reason\n"
    last = (0, 0)
    while True:
        async with sessions() as session:
            rows = await repository.error_rows(session, job_id, last, 5000)
        if not rows:
            return
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerows((r.row_no, r.field, r.reason) for r in rows)
        yield buf.getvalue()
        last = (rows[-1].row_no, rows[-1].id)


async def _each(chunks: Iterator[Chunk]) -> AsyncGenerator[Chunk, None]:
    for chunk in chunks:
        yield chunk


async def _stage(
    session: AsyncSession,
    job_id: str,
    chunks: AsyncGenerator[Chunk, None] | AsyncGenerator[EncodedChunk, None],
    table: Any,
    progress: ImportProgress | None,
) -> int:
    rows = 0
    await drop_indexes(session, table)
    # Closed at once if a COPY fails: the validation workers stop with it.
    async with aclosing(chunks):
        async for chunk in chunks:
            if isinstance(chunk, EncodedChunk):
                await copy_csv(session, table, chunk.csv)
            else:
                await copy_records(session, table, chunk.records)
            await add_errors(session, job_id, chunk.errors)
            await add_bad_rows(session, job_id, chunk.bad_rows)
            rows += chunk.rows
            if progress is not None:
                progress.read(rows)
    await create_indexes(session, table)
    return rows


async def _rejected_rows(session: AsyncSession, job_id: str) -> int:
    stmt = select(func.count(func.distinct(import_error.c.row_no))).where(import_error.c.import_id == job_id)
    return int((await session.execute(stmt)).scalar_one())


async def execute_job(
    session: AsyncSession,
    *,
    job: dict[str, Any],
    now: datetime,
    today: date,
    progress: ImportProgress | None = None,
) -> dict[str, int]:
    """Run a job's file through staging, merge/match and events in the caller's transaction; its counts."""
    job_id, kind, path = job["id"], job["kind"], Path(job["file_path"])
    phase = progress.phase if progress is not None else None
    if phase is not None:
        phase("reading")
    actor = Actor(job["created_by"], job["created_role"])
    await lock_imports(session)
    await bulk_settings(session, index_builds=True)
    await clear_staging(session)
    if kind == EXTRACT and is_pg(session):
        encoded = validated_chunks(path, import_id=job_id, today=today)
        rows = await _stage(session, job_id, encoded, import_row, progress)
    else:
        with open_extract(path) as fh:
            if kind == EXTRACT:
                chunks = read_chunks(fh, import_id=job_id, today=today)
                rows = await _stage(session, job_id, _each(chunks), import_row, progress)
            else:
                chunks = read_list_chunks(fh, ListKind(kind), import_id=job_id, today=today)
                rows = await _stage(session, job_id, _each(chunks), import_list_row, progress)
    counts: dict[str, int] = {"rows_read": rows}
    if kind == EXTRACT:
        merged = await merge_extract(session, import_id=job_id, actor=actor, now=now, today=today, phase=phase)
        counts.update({k: v for k, v in vars(merged).items() if isinstance(v, int)})
    else:
        if phase is not None:
            phase("matching")
        matched = await match_list(
            session, import_id=job_id, kind=ListKind(kind), source=job["source"], actor=actor, now=now, today=today
        )
        counts.update(vars(matched))
    counts["rows_rejected"] = await _rejected_rows(session, job_id)
    await clear_staging(session)
    return counts


# A database outage in the middle of a job rolls its one transaction back whole, so the job can simply run again
# once the database answers; after this many outages it is recorded as failed (upload again).
OUTAGE_ATTEMPTS = 5


async def _until_done(what: str, job_id: str, work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` again, with a capped backoff, for as long as the database is unreachable."""
    backoff = Backoff(first=0.5, cap=15.0)
    while True:
        try:
            return await work()
        except Exception as exc:
            if not is_transient(exc):
                raise
            log.warning("import job %s: database unreachable while %s, trying again (%s)", job_id, what, exc)
            await backoff.wait()


async def _set(sessions: async_sessionmaker[AsyncSession], job_id: str, **values: Any) -> None:
    async def write() -> None:
        async with sessions() as session, session.begin():
            await session.execute(update(import_job).where(import_job.c.id == job_id).values(**values))

    # The outcome must land even if the database is down right now: a job left `running` would never end.
    await _until_done("recording the outcome", job_id, write)


async def _claim(sessions: async_sessionmaker[AsyncSession], job_id: str) -> dict[str, Any] | None:
    """Move a queued job to running; the job row, or None if it was not queued."""
    async with sessions() as session, session.begin():
        row = (
            (await session.execute(select(import_job).where(import_job.c.id == job_id).with_for_update()))
            .mappings()
            .first()
        )
        if row is None:
            raise LookupError(f"no import job {job_id}")
        job = dict(row)
        if job["status"] != "queued":
            return None
        await session.execute(
            update(import_job).where(import_job.c.id == job_id).values(status="running", started_at=utcnow())
        )
        return job


async def run_job(
    sessions: async_sessionmaker[AsyncSession],
    job_id: str,
    *,
    progress: ImportProgress | None = None,
    audit: AuditLog | None = None,
) -> dict[str, Any]:
    """Run a queued job to the end and record the outcome; returns the job row.

    The job's changes and its audit entry commit together; `audit` (the service's anchored log) then signs a
    checkpoint, so a bulk change is anchored as soon as it lands. A database outage is waited out: the job runs
    again from the start (its transaction rolled back whole) up to OUTAGE_ATTEMPTS times, and its outcome is
    recorded once the database answers, so no job stays `running` after its task ended."""
    job = await _until_done("starting", job_id, lambda: _claim(sessions, job_id))
    if job is not None:
        await _run_claimed(sessions, job, progress=progress, audit=audit)
    async with sessions() as session:
        return dict((await session.execute(select(import_job).where(import_job.c.id == job_id))).mappings().one())


async def _run_claimed(
    sessions: async_sessionmaker[AsyncSession],
    job: dict[str, Any],
    *,
    progress: ImportProgress | None,
    audit: AuditLog | None,
) -> None:
    job_id = job["id"]
    phases = EXTRACT_PHASES if job["kind"] == EXTRACT else LIST_PHASES
    listener = progress.listener if progress is not None else None
    backoff = Backoff(first=0.5, cap=15.0)
    try:
        for attempt in range(1, OUTAGE_ATTEMPTS + 1):
            # A fresh progress per attempt: the phases of a rolled-back attempt did not happen.
            progress = progress if attempt == 1 and progress is not None else ImportProgress(phases, listener)
            LIVE[job_id] = progress
            try:
                file_hash = await file_sha256(Path(job["file_path"]))
                async with sessions() as session, session.begin():
                    counts = await execute_job(session, job=job, now=utcnow(), today=today_wib(), progress=progress)
                    await record_job(session, job=job, file_hash=file_hash, counts=counts)
            except (ExtractFormatError, UnicodeDecodeError) as exc:
                error = str(exc)[:2000]
            except Exception as exc:
                if is_transient(exc) and attempt < OUTAGE_ATTEMPTS:
                    log.warning("import job %s: database outage (attempt %d), running it again", job_id, attempt)
                    await backoff.wait()
                    continue
                log.exception("import job %s failed", job_id)
                error = f"internal error ({type(exc).__name__})"
            else:
                # The final progress lands with the status: whoever sees the job finished sees its phases too.
                finished = progress.finish()
                await _set(sessions, job_id, status="succeeded", finished_at=utcnow(), counts=counts, progress=finished)
                if audit is not None:
                    await audit.checkpoint_quietly(sessions)
                return
            await _set(sessions, job_id, status="failed", finished_at=utcnow(), error=error, progress=progress.finish())
            return
    finally:
        LIVE.pop(job_id, None)
