"""The family search results as a CSV or XLSX download: the list's filters, scope and masking, every row."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import Select

from services.registry.database import export_jobs
from services.registry.domain.identifiers import today_wib
from services.registry.families.computed_flags import flag_kinds_by_family
from services.registry.families.privacy import Viewer, present_family
from services.registry.families.repository import families_query
from services.registry.families.schemas import FAMILY_COLUMNS
from services.registry.families.service import family_filter
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.events.household import DataStatus
from shared.exports.jobs import AsJob, export_or_job
from shared.exports.response import EXPORT_FILE_RESPONSES, FileFormat, stream_query
from shared.http.params import PRINTABLE
from shared.http.security import require
from shared.runtime.dependencies import RuntimeDep
from shared.runtime.service import ServiceRuntime

router = APIRouter(tags=["families"])
Reader = Annotated[Principal, Depends(require(Permission.READ_HOUSEHOLD))]
# Families presented per batch: one flag lookup per batch, not per row.
BATCH = 1000


async def family_rows(
    runtime: ServiceRuntime, principal: Principal, query: Select[Any]
) -> AsyncIterator[Mapping[str, Any]]:
    """The query's families as the JSON list presents them (masked for this caller, open flags included)."""
    viewer = Viewer(principal)
    today = today_wib()
    async with runtime.sessions() as flags_session:

        async def present(batch: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
            kinds = await flag_kinds_by_family(flags_session, [r["id"] for r in batch])
            return [
                present_family(r, viewer, open_flags=kinds[r["id"]][0], members=None, today=today).model_dump()
                for r in batch
            ]

        batch: list[Mapping[str, Any]] = []
        async for row in stream_query(runtime.sessions, query, lambda r: dict(r)):
            batch.append(row)
            if len(batch) == BATCH:
                for out in await present(batch):
                    yield out
                batch = []
        if batch:
            for out in await present(batch):
                yield out


@router.get(
    "/families/export",
    summary="Download the family search results (CSV or XLSX; large ones as a job): the list's filters, scope, masking",
    responses=EXPORT_FILE_RESPONSES,
)
async def export_families(
    runtime: RuntimeDep,
    principal: Reader,
    kecamatan: Annotated[str | None, Query(pattern=PRINTABLE, max_length=20)] = None,
    kelurahan: Annotated[str | None, Query(pattern=PRINTABLE, max_length=20)] = None,
    desil_min: Annotated[int | None, Query(ge=1, le=10)] = None,
    desil_max: Annotated[int | None, Query(ge=1, le=10)] = None,
    data_status: DataStatus | None = None,
    flag: Annotated[
        str | None, Query(max_length=100, pattern=PRINTABLE, description="An open flag kind, or 'any'.")
    ] = None,
    name: Annotated[str | None, Query(pattern=PRINTABLE, min_length=2, max_length=100)] = None,
    format: FileFormat = "csv",
    as_job: AsJob = False,
) -> Response:
    """Identifiers stay masked (an export cannot reveal); names and addresses as the JSON shows them to the role."""
    filters = family_filter(
        kecamatan=kecamatan,
        kelurahan=kelurahan,
        desil_min=desil_min,
        desil_max=desil_max,
        data_status=data_status,
        flag=flag,
        name=name,
    )
    query = families_query(principal, filters)
    return await export_or_job(
        runtime,
        export_jobs,
        principal,
        permission=Permission.READ_HOUSEHOLD,
        fmt=format,
        columns=FAMILY_COLUMNS,
        rows=family_rows(runtime, principal, query),
        name="keluarga",
        query=query,
        as_job=as_job,
    )
