"""The berita acara of a ratification batch: gather the batch, its list and documents, render the PDF."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.verification.attachments import repository as attachments
from services.verification.ratification import repository as repo
from services.verification.ratification.pdf import BatchMinutes, berita_acara
from services.verification.ratification.rules import list_hash
from services.verification.ratification.service import load_batch
from shared.auth.principal import Principal
from shared.pdf.document import Signatory
from shared.pdf.response import PdfReport


async def batch_minutes(session: AsyncSession, *, principal: Principal, batch_id: int) -> BatchMinutes:
    """The batch's minutes as plain data (404 outside the caller's scope)."""
    batch = await load_batch(session, principal=principal, batch_id=batch_id)
    rows = await repo.batch_list(session, batch_id)
    docs = await attachments.attachments_of(session, owner_kind="batch", owner_id=batch_id)
    return BatchMinutes(
        batch_id=int(batch["id"]),
        cycle=batch["cycle"],
        wilayah_code=batch["wilayah_code"],
        status=batch["status"],
        prepared_by=batch["prepared_by"],
        prepared_at=batch["prepared_at"],
        submitted_at=batch["submitted_at"],
        ratified_by=batch["ratified_by"],
        ratified_at=batch["ratified_at"],
        list_sha256=list_hash(rows),
        documents={d["role"]: d["sha256"] for d in docs},
        usulan=rows,
    )


async def berita_acara_pdf(
    session: AsyncSession, *, principal: Principal, batch_id: int, signatory: Signatory
) -> PdfReport:
    """The berita acara pengesahan as PDF bytes (same batch, same bytes)."""
    minutes = await batch_minutes(session, principal=principal, batch_id=batch_id)
    document = berita_acara(minutes)
    return PdfReport.of(document, signatory, f"berita-acara-pengesahan-{minutes.cycle}-{minutes.batch_id}.pdf")
