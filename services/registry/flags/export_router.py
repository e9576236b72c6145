"""The data-quality flags as a CSV or XLSX download: the list's filters and scope, every flag."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.registry.database import export_jobs
from services.registry.domain.flags import FlagKind, FlagStatus
from services.registry.flags.schemas import FLAG_COLUMNS, FlagFilter, FlagOut
from services.registry.flags.service import flags_in_scope
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.exports.jobs import AsJob, export_or_job
from shared.exports.response import EXPORT_FILE_RESPONSES, FileFormat, stream_query
from shared.http.params import PRINTABLE
from shared.http.security import require
from shared.runtime.dependencies import RuntimeDep

router = APIRouter(tags=["flags"])
Reader = Annotated[Principal, Depends(require(Permission.READ_HOUSEHOLD))]


@router.get(
    "/flags/export",
    summary="Download the flags of families in your wilayah (CSV or XLSX), newest first, filtered like the list",
    responses=EXPORT_FILE_RESPONSES,
)
async def export_flags(
    runtime: RuntimeDep,
    principal: Reader,
    status: FlagStatus | None = None,
    kind: FlagKind | None = None,
    family_id: Annotated[str | None, Query(pattern=PRINTABLE, max_length=36)] = None,
    kecamatan: Annotated[str | None, Query(pattern=PRINTABLE, max_length=20)] = None,
    kelurahan: Annotated[str | None, Query(pattern=PRINTABLE, max_length=20)] = None,
    format: FileFormat = "csv",
    as_job: AsJob = False,
) -> Response:
    """Flags hold codes and counts, no identifiers (as in the list)."""
    filters = FlagFilter(
        status=status.value if status else None,
        kind=kind.value if kind else None,
        family_id=family_id,
        kecamatan=kecamatan,
        kelurahan=kelurahan,
    )
    query = flags_in_scope(principal, filters=filters)
    return await export_or_job(
        runtime,
        export_jobs,
        principal,
        permission=Permission.READ_HOUSEHOLD,
        fmt=format,
        columns=FLAG_COLUMNS,
        rows=stream_query(runtime.sessions, query, lambda r: FlagOut.model_validate(dict(r)).model_dump()),
        name="tanda-data",
        query=query,
        as_job=as_job,
    )
