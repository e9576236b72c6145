"""HTTP routes of tahap: lifecycle, frozen lists, diffs and the tahap-over-tahap report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.disbursement.scope import require_kota
from services.disbursement.tahap import service
from services.disbursement.tahap.schemas import (
    LIST_COLUMNS,
    ListDiff,
    ListRow,
    TahapChanges,
    TahapIn,
    TahapOut,
)
from services.disbursement.tahap_state import service as state
from services.disbursement.tahap_state.schemas import ReasonIn
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.exports.response import EXPORT_RESPONSES, ExportFormat, export_response, stream_query
from shared.http.params import MAX_ID, PRINTABLE, PathText
from shared.http.security import require
from shared.runtime.dependencies import RuntimeDep, SessionDep

router = APIRouter(prefix="/tahap", tags=["tahap"])
Reader = Annotated[Principal, Depends(require(Permission.READ_PAYMENTS))]
Preparer = Annotated[Principal, Depends(require(Permission.PREPARE_TAHAP))]
Approver = Annotated[Principal, Depends(require(Permission.APPROVE_TAHAP))]


@router.post("", status_code=201, summary="Open a draft tahap of a programme")
async def create_tahap(body: TahapIn, session: SessionDep, principal: Preparer) -> TahapOut:
    require_kota(principal, "prepare tahap")
    return await service.create_tahap(session, body=body, principal=principal)


@router.get("", summary="Tahap, newest first")
async def list_tahap(
    session: SessionDep,
    principal: Reader,
    programme_code: Annotated[str | None, Query(pattern=PRINTABLE, max_length=30)] = None,
) -> list[TahapOut]:
    return await service.list_tahap(session, programme_code=programme_code, principal=principal)


@router.get("/{tahap_id}", summary="One tahap")
async def get_tahap(tahap_id: PathText, session: SessionDep, principal: Reader) -> TahapOut:
    return await service.scoped_tahap_out(session, await state.require_tahap(session, tahap_id), principal)


@router.post("/{tahap_id}/generate", summary="Generate (freeze) the list; regenerating shows the diff")
async def generate(tahap_id: PathText, session: SessionDep, principal: Preparer) -> ListDiff:
    require_kota(principal, "generate tahap lists")
    return await service.generate(session, tahap_id=tahap_id, principal=principal)


@router.get("/{tahap_id}/diff", summary="The newest list generation against the previous one")
async def diff(
    tahap_id: PathText, session: SessionDep, principal: Reader, limit: Annotated[int, Query(ge=0, le=10_000)] = 100
) -> ListDiff:
    # City-wide counts and household ids of every kecamatan: scoped readers use /changes instead.
    require_kota(principal, "read a tahap's kota-wide list diff")
    return await service.list_diff(session, tahap_id=tahap_id, limit=limit)


@router.post("/{tahap_id}/approve", summary="Approve the frozen list (not by its preparer)")
async def approve(tahap_id: PathText, session: SessionDep, principal: Approver) -> TahapOut:
    require_kota(principal, "approve tahap")
    return await service.approve(session, tahap_id=tahap_id, principal=principal)


@router.post("/{tahap_id}/cancel", summary="Cancel a draft or generated tahap")
async def cancel(tahap_id: PathText, body: ReasonIn, session: SessionDep, principal: Preparer) -> TahapOut:
    require_kota(principal, "cancel tahap")
    return await service.cancel(session, tahap_id=tahap_id, reason=body.reason, principal=principal)


@router.post("/{tahap_id}/start-paying", summary="Approved → paying")
async def start_paying(tahap_id: PathText, session: SessionDep, principal: Approver) -> TahapOut:
    require_kota(principal, "start paying a tahap")
    return service.tahap_out(await state.start_paying(session, tahap_id=tahap_id))


@router.post("/{tahap_id}/close", summary="Close a tahap")
async def close(tahap_id: PathText, session: SessionDep, principal: Approver) -> TahapOut:
    require_kota(principal, "close tahap")
    return await service.close(session, tahap_id=tahap_id, principal=principal)


@router.get("/{tahap_id}/changes", summary="Tahap-over-tahap: added and removed families per kecamatan, and why")
async def changes(
    tahap_id: PathText,
    session: SessionDep,
    principal: Reader,
    previous_tahap_id: Annotated[str | None, Query(pattern=PRINTABLE, max_length=36)] = None,
) -> TahapChanges:
    return await service.changes(session, tahap_id=tahap_id, previous_tahap_id=previous_tahap_id, principal=principal)


@router.get(
    "/{tahap_id}/list",
    summary="The frozen list (scoped), listed families first in rank order; format=csv|xlsx exports all of it",
    description="The exports hold every column but the frozen inputs (in the JSON only).",
    response_model=list[ListRow],
    responses=EXPORT_RESPONSES,
)
async def frozen_list(
    tahap_id: PathText,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Reader,
    listed: bool | None = None,
    kecamatan_code: Annotated[str | None, Query(pattern=PRINTABLE, max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    format: ExportFormat = "json",
) -> list[ListRow] | Response:
    if format != "json":
        query, rule = await service.list_export_query(
            session, tahap_id=tahap_id, principal=principal, listed=listed, kecamatan_code=kecamatan_code
        )
        rows = stream_query(runtime.sessions, query, lambda r: service.list_row(r, rule).model_dump())
        return export_response(format, LIST_COLUMNS, rows, name=f"daftar-tahap-{tahap_id}")
    return await service.list_rows(
        session,
        tahap_id=tahap_id,
        principal=principal,
        listed=listed,
        kecamatan_code=kecamatan_code,
        limit=limit,
        offset=offset,
    )
