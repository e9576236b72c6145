"""The per-kecamatan TKSK work report as a PDF: pure functions over the JSON report's data."""

from __future__ import annotations

from datetime import datetime

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from services.verification.workreports.schemas import TkskReport
from shared.pdf.document import ReportDocument, bar_chart, content_hash, heading, paragraph, table
from shared.pdf.formats import number, percent, tanggal

OUTCOMES = {"layak": "layak", "tidak_layak": "tidak layak"}
REASONS = {
    "deceased": "meninggal dunia",
    "moved": "pindah",
    "not_found": "tidak ditemukan",
    "duplicate": "ganda",
    "well_off": "mampu",
    "excluded_occupation": "pekerjaan dikecualikan",
    "refused": "menolak",
}
UNASSIGNED = "(belum ditugaskan)"


def tksk_report_document(report: TkskReport, *, created_at: datetime) -> ReportDocument:
    """The report document of a kecamatan's ground-check work."""
    officers = report.officers
    fields = ("assigned", "visited", "layak", "tidak_layak", "overdue")
    totals = [sum(getattr(o, f) for o in officers) for f in fields]
    body: list[Flowable] = [
        paragraph(
            f"Kecamatan {report.kecamatan_code}, periode {tanggal(report.period_from)} sampai "
            f"{tanggal(report.period_to)}; keterlambatan dihitung per {tanggal(report.as_of)}. Ditugaskan: cek "
            "yang dibuka dalam periode; dikunjungi: kunjungan yang dikirim dalam periode; terlambat: cek yang "
            "belum selesai melewati batas waktunya."
        ),
        heading("1. Pekerjaan per petugas"),
        table(
            ["Petugas", "Peran", "Ditugaskan", "Dikunjungi", "Layak", "Tidak layak", "Terlambat"],
            [[o.officer or UNASSIGNED, o.role or "-", *(number(getattr(o, f)) for f in fields)] for o in officers]
            + [["Jumlah", "", *(number(n) for n in totals)]],
            widths=[38 * mm, 18 * mm, 24 * mm, 24 * mm, 22 * mm, 24 * mm, 24 * mm],
            numeric=(2, 3, 4, 5, 6),
            total_row=True,
        ),
    ]
    if officers:
        body += [
            Spacer(1, 4 * mm),
            bar_chart(
                "Grafik 1. Cek lapangan per petugas",
                [o.officer or UNASSIGNED for o in officers],
                [
                    ("Ditugaskan", [o.assigned for o in officers]),
                    ("Dikunjungi", [o.visited for o in officers]),
                    ("Terlambat", [o.overdue for o in officers]),
                ],
            ),
        ]
    body.append(heading("2. Hasil kunjungan"))
    if report.outcomes:
        body.append(
            table(
                ["Hasil", "Alasan", "Kunjungan"],
                [
                    [OUTCOMES.get(x.outcome, x.outcome), REASONS.get(x.reason or "", x.reason or "-"), number(x.visits)]
                    for x in report.outcomes
                ],
                widths=[40 * mm, 100 * mm, 34 * mm],
                numeric=(2,),
            )
        )
    else:
        body.append(paragraph("Tidak ada kunjungan dalam periode ini."))
    body.append(heading("3. Kemajuan kampanye revalidasi"))
    if report.campaigns:
        body.append(
            table(
                ["Kampanye", "Cek", "Selesai", "Belum selesai", "% selesai"],
                [
                    [
                        f"{c.campaign_id}. {c.name}",
                        number(c.total),
                        number(c.done),
                        number(c.total - c.done),
                        percent(100.0 * c.done / c.total if c.total else 0.0),
                    ]
                    for c in report.campaigns
                ],
                widths=[74 * mm, 22 * mm, 22 * mm, 28 * mm, 28 * mm],
                numeric=(1, 2, 3, 4),
            )
        )
    else:
        body.append(paragraph("Tidak ada kampanye revalidasi di kecamatan ini."))
    return ReportDocument(
        title="Laporan Kerja TKSK",
        subtitle=f"Kecamatan {report.kecamatan_code}, {tanggal(report.period_from)} s.d. {tanggal(report.period_to)}",
        created_at=created_at,
        signed_on=report.as_of,
        content_hash=content_hash(report.model_dump(mode="json")),
        body=body,
    )
