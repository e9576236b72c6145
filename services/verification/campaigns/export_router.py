"""A campaign's progress as a CSV or XLSX download, within the caller's scope."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from services.verification.campaigns import service
from services.verification.campaigns.schemas import PROGRESS_COLUMNS, progress_rows
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.exports.response import EXPORT_FILE_RESPONSES, FileFormat, export_response
from shared.http.params import RecordId
from shared.http.security import require
from shared.runtime.dependencies import SessionDep

router = APIRouter(tags=["campaigns"])
Reader = Annotated[Principal, Depends(require(Permission.READ_VERIFICATION))]


async def _each(rows: Iterable[Mapping[str, Any]]) -> AsyncIterator[Mapping[str, Any]]:
    for row in rows:
        yield row


@router.get(
    "/campaigns/{campaign_id}/progress/export",
    summary="Download a campaign's progress (CSV or XLSX): a row per kecamatan and per officer",
    responses=EXPORT_FILE_RESPONSES,
)
async def export_progress(
    campaign_id: RecordId, session: SessionDep, principal: Reader, format: FileFormat = "csv"
) -> Response:
    """The same counts as the JSON progress (a handful of rows: read at once, not streamed)."""
    progress = await service.progress(session, principal=principal, campaign_id=campaign_id)
    return export_response(
        format, PROGRESS_COLUMNS, _each(progress_rows(progress)), name=f"progres-kampanye-{campaign_id}"
    )
