"""Payer report import: idempotent per file (sha256) and per row (natural key), streamed, set-based."""

from __future__ import annotations

import uuid
from typing import IO, Any

from sqlalchemy import Select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.payer_reports import repository as repo
from services.disbursement.payer_reports.parsing import RowError, file_sha256, read_rows
from services.disbursement.payer_reports.schemas import ReportOut, RowErrorOut
from services.disbursement.tahap_state.service import require_tahap, start_paying
from shared.auth.principal import Principal
from shared.events.envelope import utcnow
from shared.http.problems import ProblemError

BATCH = 20_000


async def import_report(
    session: AsyncSession,
    *,
    tahap_id: str,
    source: str,
    filename: str,
    stream: IO[bytes],
    principal: Principal,
    schema: str | None,
) -> ReportOut:
    """Import one bank / Pos / ministry status file for a tahap; the same file twice changes nothing."""
    tahap = await require_tahap(session, tahap_id)
    if tahap["status"] not in {"approved", "paying", "closed"}:
        raise ProblemError(
            409,
            f"Tahap is {tahap['status']}: payer reports need an approved list.",
            code="invalid_state",
            current_status=tahap["status"],
        )
    sha = file_sha256(stream)
    now = utcnow()
    report_id = str(uuid.uuid4())
    claimed = await repo.claim_report(
        session,
        {
            "id": report_id,
            "tahap_id": tahap_id,
            "source": source,
            "filename": filename[:300],
            "file_sha256": sha,
            "imported_by": principal.subject,
            "imported_at": now,
            "rows_total": 0,
            "rows_applied": 0,
            "rows_duplicate": 0,
            "rows_error": 0,
        },
    )
    if not claimed:
        existing = await repo.report_by_sha(session, sha)
        assert existing is not None
        return ReportOut(**dict(existing), already_imported=True)
    if tahap["status"] == "approved":
        await start_paying(session, tahap_id=tahap_id)
    total = bad = 0
    batch: list[tuple[Any, ...]] = []
    parse_errors: list[RowError] = []
    for item in read_rows(stream, report_id):
        total += 1
        if isinstance(item, RowError):
            bad += 1
            parse_errors.append(item)
        else:
            batch.append(item)
        if len(batch) >= BATCH:
            await repo.stage(session, batch, schema)
            batch = []
        if len(parse_errors) >= BATCH:
            await repo.record_parse_errors(session, report_id, parse_errors)
            parse_errors = []
    await repo.stage(session, batch, schema)
    await repo.record_parse_errors(session, report_id, parse_errors)
    counts = await repo.apply_report(session, report_id=report_id, tahap_id=tahap_id, now=now)
    row = await repo.finish_report(
        session,
        report_id,
        {
            "rows_total": total,
            "rows_applied": counts["applied"],
            "rows_duplicate": counts["duplicate"],
            "rows_error": counts["error"] + bad,
        },
    )
    errors = await repo.list_errors(session, report_id, 100, 0)
    return ReportOut(**dict(row), errors=[RowErrorOut(**dict(e)) for e in errors])


async def get_report(session: AsyncSession, *, report_id: str) -> ReportOut:
    """One import and its first errors."""
    row = await repo.get_report(session, report_id)
    if row is None:
        raise ProblemError(404, "No such payer report.", code="not_found")
    errors = await repo.list_errors(session, report_id, 100, 0)
    return ReportOut(**dict(row), errors=[RowErrorOut(**dict(e)) for e in errors])


async def report_errors(session: AsyncSession, *, report_id: str, limit: int, offset: int) -> list[RowErrorOut]:
    """The per-row error report."""
    if await repo.get_report(session, report_id) is None:
        raise ProblemError(404, "No such payer report.", code="not_found")
    return [RowErrorOut(**dict(e)) for e in await repo.list_errors(session, report_id, limit, offset)]


async def errors_query(session: AsyncSession, *, report_id: str) -> Select[Any]:
    """The whole per-row error report, as a query to stream (exports)."""
    if await repo.get_report(session, report_id) is None:
        raise ProblemError(404, "No such payer report.", code="not_found")
    return repo.errors_query(report_id)


def error_row(row: RowMapping) -> dict[str, Any]:
    """A row error as the JSON list shows it."""
    return RowErrorOut(**dict(row)).model_dump()
