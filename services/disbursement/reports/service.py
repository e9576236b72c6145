"""Report documents of disbursement: gather a tahap's figures through the repositories and render the PDF."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.reports import repository as repo
from services.disbursement.reports.pdf import KecamatanFigures, TahapFigures, tahap_report
from services.disbursement.reports.schemas import KecamatanReport, TahapReport
from services.disbursement.tahap import service as tahap_service
from services.disbursement.tahap_state.service import require_tahap
from shared.auth.principal import Principal
from shared.pdf.document import Signatory
from shared.pdf.response import PdfReport


async def kecamatan_report(session: AsyncSession, *, tahap_id: str, principal: Principal) -> TahapReport:
    """Families listed, amounts, paid %, failures by reason and open breaks per kecamatan (scoped)."""
    tahap = await require_tahap(session, tahap_id)
    lines = await repo.lines_by_kecamatan(session, tahap_id=tahap_id, principal=principal)
    failures = await repo.failures_by_kecamatan(session, tahap_id=tahap_id, principal=principal)
    breaks = await repo.open_breaks_by_kecamatan(session, tahap_id=tahap_id, principal=principal)
    none = {"listed": 0, "planned": 0, "paid": 0, "amount_paid": 0, "on_hold": 0}
    return TahapReport(
        tahap_id=tahap_id,
        programme_code=tahap["programme_code"],
        label=tahap["label"],
        kecamatan=[
            KecamatanReport(
                kecamatan_code=k,
                families_listed=(row := lines.get(k, none))["listed"],
                amount_planned=row["planned"],
                families_paid=row["paid"],
                amount_paid=row["amount_paid"],
                on_hold=row["on_hold"],
                paid_pct=round(100.0 * row["paid"] / row["listed"], 2) if row["listed"] else 0.0,
                failures_by_reason=failures.get(k, {}),
                breaks_open=breaks.get(k, 0),
            )
            for k in sorted(set(lines) | set(breaks))
        ],
    )


async def tahap_figures(session: AsyncSession, *, tahap_id: str, principal: Principal) -> TahapFigures:
    """The tahap's figures per kecamatan and its changes since the previous tahap, in the caller's scope."""
    tahap = await require_tahap(session, tahap_id)
    per_kecamatan = await kecamatan_report(session, tahap_id=tahap_id, principal=principal)
    extra = await repo.failed_and_held(session, tahap_id=tahap_id, principal=principal)
    none = {"failed": 0, "amount_failed": 0, "on_hold": 0, "amount_on_hold": 0}
    kecamatan = [
        KecamatanFigures(
            kecamatan_code=k.kecamatan_code,
            listed=k.families_listed,
            amount_planned=k.amount_planned,
            paid=k.families_paid,
            amount_paid=k.amount_paid,
            **extra.get(k.kecamatan_code, none),
        )
        for k in per_kecamatan.kecamatan
    ]
    changes = None
    if tahap["generation"]:
        changes = await tahap_service.changes(session, tahap_id=tahap_id, previous_tahap_id=None, principal=principal)
    payment_file = {}
    if tahap["payment_file_sha256"]:
        payment_file = {
            "kind": tahap["payment_file_kind"],
            "sha256": tahap["payment_file_sha256"],
            "count": int(tahap["payment_file_count"]),
            "total": int(tahap["payment_file_total"]),
        }
    moments = [m for m in (tahap["updated_at"], tahap["payment_file_at"]) if m is not None]
    return TahapFigures(
        tahap_id=tahap_id,
        programme_code=tahap["programme_code"],
        label=tahap["label"],
        status=tahap["status"],
        as_of=tahap["as_of"],
        list_hash=tahap["list_hash"],
        wilayah=principal.wilayah,
        as_at=max(moments),
        kecamatan=kecamatan,
        changes=changes,
        payment_file=payment_file,
    )


async def tahap_report_pdf(
    session: AsyncSession, *, tahap_id: str, principal: Principal, signatory: Signatory
) -> PdfReport:
    """The tahap report as PDF bytes (same data, same bytes)."""
    figures = await tahap_figures(session, tahap_id=tahap_id, principal=principal)
    document = tahap_report(figures)
    safe_label = "".join(c if c.isalnum() or c in "-_" else "_" for c in figures.label)
    return PdfReport.of(document, signatory, f"laporan-tahap-{figures.programme_code}-{safe_label}.pdf")
