"""HTTP API of ratification batches (pengesahan)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from services.verification.attachments.schemas import DocumentRef
from services.verification.ratification import service
from services.verification.ratification.schemas import BatchIn, BatchOut
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.http.params import RecordId
from shared.http.security import require
from shared.runtime.dependencies import SessionDep

router = APIRouter(tags=["ratification"])

Reader = Annotated[Principal, Depends(require(Permission.READ_VERIFICATION))]
Preparer = Annotated[Principal, Depends(require(Permission.PREPARE_RATIFICATION))]
Ratifier = Annotated[Principal, Depends(require(Permission.RATIFY))]


@router.post("/ratification-batches", status_code=201, response_model=BatchOut, summary="Prepare a batch")
async def prepare(body: BatchIn, session: SessionDep, principal: Preparer) -> BatchOut:
    """Collect the eligible proposals of a monthly cycle into a draft batch."""
    return await service.to_out(session, await service.prepare(session, principal=principal, cycle=body.cycle))


@router.get("/ratification-batches/{batch_id}", response_model=BatchOut, summary="One batch")
async def get(batch_id: RecordId, session: SessionDep, principal: Reader) -> BatchOut:
    """A batch with its documents and allowed actions."""
    return await service.to_out(session, await service.load_batch(session, principal=principal, batch_id=batch_id))


@router.post("/ratification-batches/{batch_id}/attachments", response_model=BatchOut, summary="Attach a document")
async def attach(batch_id: RecordId, body: DocumentRef, session: SessionDep, principal: Preparer) -> BatchOut:
    """Signed minutes or the by-name-by-address list (references: sha256, size, media type)."""
    row = await service.attach(session, principal=principal, batch_id=batch_id, ref=body)
    return await service.to_out(session, row)


@router.post("/ratification-batches/{batch_id}/submit", response_model=BatchOut, summary="Submit for ratification")
async def submit(batch_id: RecordId, session: SessionDep, principal: Preparer) -> BatchOut:
    """draft → submitted."""
    return await service.to_out(session, await service.submit(session, principal=principal, batch_id=batch_id))


@router.post("/ratification-batches/{batch_id}/ratify", response_model=BatchOut, summary="Ratify (pengesahan)")
async def ratify(batch_id: RecordId, session: SessionDep, principal: Ratifier) -> BatchOut:
    """submitted → ratified by someone other than who prepared it."""
    return await service.to_out(session, await service.ratify(session, principal=principal, batch_id=batch_id))


@router.post(
    "/ratification-batches/{batch_id}/export",
    summary="Export for the ministry (CSV)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The export file; columns in the module docs."}},
)
async def export(batch_id: RecordId, session: SessionDep, principal: Preparer) -> Response:
    """ratified → sent and the CSV; refused (409) until minutes and list are attached."""
    row, body = await service.export(session, principal=principal, batch_id=batch_id)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="pengesahan-{row["cycle"]}-{row["id"]}.csv"'},
    )
