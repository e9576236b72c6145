"""Ground checks as a CSV or XLSX download: the list's filters and scope, every check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.verification.database import export_jobs
from services.verification.groundchecks import repository as repo
from services.verification.groundchecks import service
from services.verification.groundchecks.schemas import CHECK_COLUMNS, check_cells
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.events.envelope import utcnow
from shared.exports.jobs import AsJob, export_or_job
from shared.exports.response import EXPORT_FILE_RESPONSES, FileFormat, stream_query
from shared.http.params import MAX_ID, TextFilter, WilayahFilter
from shared.http.security import require
from shared.runtime.dependencies import RuntimeDep

router = APIRouter(tags=["ground checks"])
Reader = Annotated[Principal, Depends(require(Permission.READ_VERIFICATION))]


@router.get(
    "/ground-checks/export",
    summary="Download the ground checks in your wilayah (CSV or XLSX), filtered like the list",
    responses=EXPORT_FILE_RESPONSES,
)
async def export_checks(
    runtime: RuntimeDep,
    principal: Reader,
    status: TextFilter = None,
    reason: TextFilter = None,
    assigned_to: TextFilter = None,
    kelurahan_code: WilayahFilter = None,
    household_id: TextFilter = None,
    campaign_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    overdue: bool = False,
    format: FileFormat = "csv",
    as_job: AsJob = False,
) -> Response:
    """Oldest due first, as the list; overdue=true exports the past-due open checks."""
    now = utcnow()
    where = repo.filtered(
        principal,
        status=status,
        reason=reason,
        assigned_to=assigned_to,
        kelurahan_code=kelurahan_code,
        household_id=household_id,
        campaign_id=campaign_id,
        overdue_at=now if overdue else None,
    )
    query = repo.checks_query(where)
    return await export_or_job(
        runtime,
        export_jobs,
        principal,
        permission=Permission.READ_VERIFICATION,
        fmt=format,
        columns=CHECK_COLUMNS,
        rows=stream_query(runtime.sessions, query, lambda r: check_cells(service.to_out(dict(r), now))),
        name="cek-lapangan",
        query=query,
        as_job=as_job,
    )
