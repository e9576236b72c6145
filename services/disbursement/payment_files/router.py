"""HTTP route of payment instruction files."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from services.disbursement.payment_files import service
from services.disbursement.payment_files.builders import Debtor
from services.disbursement.scope import require_kota
from services.disbursement.settings import DisbursementSettings
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.http.params import PathText
from shared.http.security import require
from shared.runtime.dependencies import RuntimeDep, SessionDep

router = APIRouter(tags=["payment files"])
Exchanger = Annotated[Principal, Depends(require(Permission.IMPORT_PAYER_REPORT))]


@router.post(
    "/tahap/{tahap_id}/payment-file",
    summary="Build the payment instruction file of an approved tahap (pain.001 for banks, CSV for Pos)",
    description=(
        "The lines still to be paid (never a line on hold), in a fixed order; message id and dates follow from the "
        "tahap, so the same lines give the same bytes. The file's kind, sha256, count and sum are recorded on the "
        "tahap and returned in the X-Tepat-File-SHA256, X-Tepat-Control-Count and X-Tepat-Control-Sum headers. "
        "Default kind: the programme's channel (bank_kks: pain.001.001.09, pos: pos_csv_v1). Formats: "
        "docs/PAYMENT_FILES.md."
    ),
    response_class=StreamingResponse,
    responses={200: {"content": {"application/xml": {}, "text/csv": {}}}},
)
async def build_file(
    tahap_id: PathText,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Exchanger,
    kind: Annotated[Literal["pain.001.001.09", "pos_csv_v1"] | None, Query()] = None,
) -> StreamingResponse:
    require_kota(principal, "build payment files")
    settings = runtime.settings
    assert isinstance(settings, DisbursementSettings)
    debtor = Debtor(settings.payer_debtor_name, settings.payer_debtor_account, settings.payer_debtor_agent_bic)
    built = await service.build_file(session, tahap_id=tahap_id, kind=kind, debtor=debtor, principal=principal)
    return StreamingResponse(
        built.chunks(),
        media_type=built.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{built.filename}"',
            "X-Tepat-File-Kind": built.kind,
            "X-Tepat-File-SHA256": built.sha256,
            "X-Tepat-Control-Count": str(built.count),
            "X-Tepat-Control-Sum": str(built.total),
        },
    )
