"""The correction queue as a CSV or XLSX download: the list's filters, scope and masking, every entry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.registry.corrections.repository import entries_query
from services.registry.corrections.router import present
from services.registry.corrections.schemas import CORRECTION_COLUMNS
from services.registry.database import export_jobs
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.exports.jobs import AsJob, export_or_job
from shared.exports.response import EXPORT_FILE_RESPONSES, FileFormat, stream_query
from shared.http.params import PRINTABLE
from shared.http.security import require
from shared.runtime.dependencies import RuntimeDep

router = APIRouter(tags=["corrections"])
Fixer = Annotated[Principal, Depends(require(Permission.FIX_IMPORT_ROW))]


@router.get(
    "/corrections/export",
    summary="Download the queued extract rows in your wilayah (CSV or XLSX), filtered like the list",
    responses=EXPORT_FILE_RESPONSES,
)
async def export_corrections(
    runtime: RuntimeDep,
    principal: Fixer,
    status: Annotated[str | None, Query(pattern=r"^(open|fixed|dismissed)$")] = "open",
    rule: Annotated[str | None, Query(pattern=PRINTABLE, max_length=100)] = None,
    kecamatan: Annotated[str | None, Query(pattern=PRINTABLE, max_length=20)] = None,
    kelurahan: Annotated[str | None, Query(pattern=PRINTABLE, max_length=20)] = None,
    family_id: Annotated[str | None, Query(pattern=PRINTABLE, max_length=36)] = None,
    import_id: Annotated[str | None, Query(pattern=PRINTABLE, max_length=36)] = None,
    format: FileFormat = "csv",
    as_job: AsJob = False,
) -> Response:
    """NIK and No. KK in the row masked unless the role may read them, as in the list."""
    query = entries_query(
        principal,
        status=status,
        rule=rule,
        kecamatan=kecamatan,
        kelurahan=kelurahan,
        family_id=family_id,
        import_id=import_id,
    )
    return await export_or_job(
        runtime,
        export_jobs,
        principal,
        permission=Permission.FIX_IMPORT_ROW,
        fmt=format,
        columns=CORRECTION_COLUMNS,
        rows=stream_query(runtime.sessions, query, lambda r: present(r, principal).model_dump()),
        name="antrean-koreksi",
        query=query,
        as_job=as_job,
    )
