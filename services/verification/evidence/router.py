"""HTTP API of evidence files: upload (multipart) and download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import FileResponse

from services.verification.evidence import service
from services.verification.evidence.schemas import EvidenceOut, Purpose
from services.verification.evidence.storage import EvidenceStore
from services.verification.settings import VerificationSettings
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.events.household import WILAYAH_KELURAHAN
from shared.http.params import PathText
from shared.http.problems import ProblemError
from shared.http.security import require
from shared.runtime.dependencies import RuntimeDep, SessionDep

router = APIRouter(tags=["evidence"])

Uploader = Annotated[Principal, Depends(require(Permission.UPLOAD_EVIDENCE))]
Reader = Annotated[Principal, Depends(require(Permission.READ_VERIFICATION))]


def evidence_store(runtime: RuntimeDep) -> EvidenceStore:
    """The service's content-addressed store (a folder in embedded mode, a volume in Compose)."""
    settings = runtime.settings
    if not isinstance(settings, VerificationSettings):  # the runtime is verification's own
        raise ProblemError(503, "Evidence storage is not configured.")
    return EvidenceStore(settings.evidence_path)


Store = Annotated[EvidenceStore, Depends(evidence_store)]


@router.post("/evidence", status_code=201, response_model=EvidenceOut, summary="Upload an evidence file")
async def upload(
    session: SessionDep,
    store: Store,
    principal: Uploader,
    runtime: RuntimeDep,
    file: Annotated[UploadFile, File(description="JPEG or PNG photo, PDF minutes, or CSV list.")],
    purpose: Annotated[Purpose, Form()],
    kelurahan_code: Annotated[
        str, Form(pattern=WILAYAH_KELURAHAN, description="Kelurahan of the record the file documents.")
    ],
    keep_gps: Annotated[bool, Form(description="Keep the photo's GPS position (all other EXIF is dropped).")] = False,
) -> EvidenceOut:
    """Stored under the SHA-256 of the kept bytes; reference that hash in visits, sanggah and attachments."""
    settings = runtime.settings
    limit = settings.evidence_max_bytes if isinstance(settings, VerificationSettings) else 0
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise ProblemError(
            413,
            f"An evidence file may be at most {limit} bytes.",
            code="file_too_large",
            errors=[{"field": "file", "reason": "file.too_large"}],
        )
    media_type = (file.content_type or "").split(";")[0].strip().lower()
    row = await service.upload(
        session,
        store=store,
        principal=principal,
        content=content,
        media_type=media_type,
        purpose=purpose,
        kelurahan_code=kelurahan_code,
        keep_gps=keep_gps,
    )
    return service.to_out(row)


@router.get("/evidence/{sha256}", summary="Download an evidence file", response_class=FileResponse)
async def download(sha256: PathText, session: SessionDep, store: Store, principal: Reader) -> FileResponse:
    """The stored bytes, for roles that may read verification records of the file's kelurahan."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ProblemError(
            422, "sha256 must be 64 lower-case hex digits.", errors=[{"field": "sha256", "reason": "sha256.format"}]
        )
    path, media_type = await service.readable(session, store=store, principal=principal, sha256=sha256)
    return FileResponse(
        path,
        media_type=media_type,
        headers={"Cache-Control": "private, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"},
    )
