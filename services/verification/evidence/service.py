"""Evidence files: accept an upload into the content-addressed store, serve it back to those who may see it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.verification.evidence import repository as repo
from services.verification.evidence.content import ContentError, keep
from services.verification.evidence.schemas import EvidenceOut, Purpose
from services.verification.evidence.storage import EvidenceStore
from shared.auth.principal import Principal
from shared.events.envelope import utcnow
from shared.http.problems import ProblemError


async def upload(
    session: AsyncSession,
    *,
    store: EvidenceStore,
    principal: Principal,
    content: bytes,
    media_type: str,
    purpose: Purpose,
    kelurahan_code: str,
    keep_gps: bool,
) -> dict[str, Any]:
    """Check, clean and store one file; the record is written in the request's transaction."""
    if not principal.covers(kelurahan_code):
        raise ProblemError(
            403,
            "The kelurahan of this evidence is outside your wilayah.",
            code="out_of_scope",
            errors=[{"field": "kelurahan_code", "reason": "wilayah.out_of_scope"}],
        )
    try:
        # Decoding and encoding a photo takes tens of milliseconds: off the event loop.
        kept = await asyncio.to_thread(keep, content, media_type, keep_gps=keep_gps)
    except ContentError as exc:
        status = 415 if exc.code.startswith("media_type") else 422
        raise ProblemError(status, str(exc), code=exc.code, errors=[{"field": "file", "reason": exc.code}]) from None
    sha = await asyncio.to_thread(store.put, kept.content)
    await repo.add(
        session,
        values=repo.record(
            sha256=sha,
            size_bytes=len(kept.content),
            media_type=kept.media_type,
            purpose=purpose.value,
            kelurahan_code=kelurahan_code,
            gps=kept.gps,
            uploaded_by=principal.subject,
            uploaded_at=utcnow(),
        ),
    )
    row = await repo.get(session, sha)
    assert row is not None  # written just above, in this transaction
    return row


async def readable(
    session: AsyncSession, *, store: EvidenceStore, principal: Principal, sha256: str
) -> tuple[Path, str]:
    """The stored file and its media type, if the caller may see it; 404 otherwise (no hint that it exists)."""
    row = await repo.get(session, sha256)
    if row is None or not (principal.covers(row["kelurahan_code"]) or row["uploaded_by"] == principal.subject):
        raise ProblemError(404, "No such evidence file in your wilayah.", code="not_found")
    path = store.path_of(sha256)
    if not path.is_file():
        # The record without its file: the store was restored without its folder. Say so, do not pretend.
        raise ProblemError(503, "The evidence file is missing from the store.", code="evidence_missing")
    return path, str(row["media_type"])


async def require_stored(session: AsyncSession, *, hashes: list[str], field: str) -> None:
    """422 naming each referenced hash that is not a stored file: no record keeps a hash without its file."""
    stored = await repo.known(session, hashes)
    missing = [i for i, h in enumerate(hashes) if h not in stored]
    if missing:
        raise ProblemError(
            422,
            "Upload the evidence files first (POST /evidence), then reference their sha256.",
            code="evidence_not_stored",
            errors=[{"field": f"{field}[{i}].sha256", "reason": "evidence.not_stored"} for i in missing],
        )


def to_out(row: dict[str, Any]) -> EvidenceOut:
    """The API shape of a stored file."""
    return EvidenceOut(**{k: row[k] for k in EvidenceOut.model_fields if k != "url"}, url=f"evidence/{row['sha256']}")
