"""HTTP routes of payer report imports."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile

from services.disbursement.payer_reports import service
from services.disbursement.payer_reports.schemas import ERROR_COLUMNS, ReportOut, RowErrorOut
from services.disbursement.scope import require_kota
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.exports.response import EXPORT_RESPONSES, ExportFormat, export_response, stream_query
from shared.http.params import MAX_ID, PathText
from shared.http.security import require
from shared.runtime.dependencies import RuntimeDep, SessionDep

router = APIRouter(tags=["payer reports"])
Importer = Annotated[Principal, Depends(require(Permission.IMPORT_PAYER_REPORT))]
Reader = Annotated[Principal, Depends(require(Permission.READ_PAYMENTS))]


@router.post(
    "/tahap/{tahap_id}/payer-reports",
    status_code=201,
    summary="Import a bank / Pos report or the ministry status export (CSV; columns in the description)",
    description=(service.__doc__ or "")
    + "\n\nColumns: line_id or (programme_code, tahap_id, household_id), status, amount, date, reference, "
    "failure_reason. The same file twice changes nothing (sha256); a row already recorded in another file "
    "(same line, status and reference) changes nothing either.",
)
async def import_report(
    tahap_id: PathText,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Importer,
    file: Annotated[UploadFile, File(description="CSV file")],
    source: Annotated[Literal["bank", "pos", "ministry"], Form()] = "bank",
) -> ReportOut:
    require_kota(principal, "import payer reports")
    settings = runtime.settings
    return await service.import_report(
        session,
        tahap_id=tahap_id,
        source=source,
        filename=file.filename or "report.csv",
        stream=file.file,
        principal=principal,
        schema=settings.schema_name if settings.is_postgres else None,
    )


@router.get("/payer-reports/{report_id}", summary="One import and its first row errors")
async def get_report(report_id: PathText, session: SessionDep, principal: Reader) -> ReportOut:
    require_kota(principal, "read payer reports")
    return await service.get_report(session, report_id=report_id)


@router.get(
    "/payer-reports/{report_id}/errors",
    summary="The per-row error report; format=csv|xlsx exports all of it",
    response_model=list[RowErrorOut],
    responses=EXPORT_RESPONSES,
)
async def report_errors(
    report_id: PathText,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    format: ExportFormat = "json",
) -> list[RowErrorOut] | Response:
    require_kota(principal, "read payer reports")
    if format != "json":
        query = await service.errors_query(session, report_id=report_id)
        rows = stream_query(runtime.sessions, query, service.error_row)
        return export_response(format, ERROR_COLUMNS, rows, name=f"galat-laporan-{report_id}")
    return await service.report_errors(session, report_id=report_id, limit=limit, offset=offset)
