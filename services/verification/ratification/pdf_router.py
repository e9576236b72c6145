"""HTTP route of the berita acara pengesahan (PDF)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from services.verification.ratification import minutes
from services.verification.settings import settings_of
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.http.params import RecordId
from shared.http.security import require
from shared.pdf.response import PDF_RESPONSES, pdf_response
from shared.runtime.dependencies import RuntimeDep, SessionDep

router = APIRouter(tags=["ratification"])
Reader = Annotated[Principal, Depends(require(Permission.READ_VERIFICATION))]


@router.get(
    "/ratification-batches/{batch_id}/berita-acara.pdf",
    summary="The berita acara pengesahan of a batch (PDF, Bahasa Indonesia)",
    description=(
        "The batch, who prepared and ratified it, its usulan per kecamatan and kind and as a list, the SHA-256 of "
        "the list (one 'id;household_id;kecamatan_code;kelurahan_code;kind;channel;ground_check_id' line per usulan "
        "in id order) and of its attached documents; page numbers, the signature block and the SHA-256 of the "
        "certified content in the footer (also in X-Tepat-Content-SHA256). 404 outside the caller's wilayah."
    ),
    response_class=Response,
    responses=PDF_RESPONSES,
)
async def berita_acara(batch_id: RecordId, session: SessionDep, runtime: RuntimeDep, principal: Reader) -> Response:
    settings = settings_of(runtime)
    report = await minutes.berita_acara_pdf(
        session, principal=principal, batch_id=batch_id, signatory=settings.signatory()
    )
    return pdf_response(report)
