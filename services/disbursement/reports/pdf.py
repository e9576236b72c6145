"""The tahap report for the kepala dinas as a PDF: pure functions over plain data (no I/O).

Per kecamatan: families listed, paid, failed and on hold (counts and amounts), a bar chart of them, and the
tahap-over-tahap changes with their reasons; signed by the dinas, the content's SHA-256 in every footer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from services.disbursement.tahap.schemas import TahapChanges
from shared.pdf.document import ReportDocument, bar_chart, content_hash, heading, paragraph, table
from shared.pdf.formats import number, percent, rupiah, tanggal

# Why a family joined or left the list, in the words of the dinas (the codes are tahap.changes' and the rule's).
REASONS = {
    "newly_eligible": "baru memenuhi syarat",
    "moved_in": "pindah masuk dari kecamatan lain",
    "moved_out": "pindah ke kecamatan lain",
    "not_in_registry": "tidak ada lagi di data registri",
    "eligible": "memenuhi syarat",
    "deceased": "meninggal dunia",
    "data_inactive": "data tidak aktif",
    "data_not_verified": "data belum terverifikasi",
    "verified_tidak_layak": "hasil verifikasi lapangan tidak layak",
    "excluded_flag": "tanda pengecualian terkonfirmasi",
    "no_desil": "tanpa desil",
    "desil_rose": "desil naik di atas batas",
    "desil_below_band": "desil di bawah rentang program",
    "verification_stale": "verifikasi sudah kedaluwarsa",
    "over_quota": "melebihi kuota",
}
STATUS = {
    "draft": "draf",
    "list_generated": "daftar dibuat",
    "approved": "disetujui",
    "paying": "dalam penyaluran",
    "closed": "ditutup",
    "cancelled": "dibatalkan",
}


@dataclass(frozen=True)
class KecamatanFigures:
    """One kecamatan of a tahap: counts of families (KPM) and rupiah per state of their payment lines."""

    kecamatan_code: str
    listed: int
    amount_planned: int
    paid: int
    amount_paid: int
    failed: int
    amount_failed: int
    on_hold: int
    amount_on_hold: int


@dataclass(frozen=True)
class TahapFigures:
    """What the tahap report certifies, as plain data."""

    tahap_id: str
    programme_code: str
    label: str
    status: str
    as_of: date
    list_hash: str | None
    wilayah: str
    as_at: datetime
    kecamatan: list[KecamatanFigures]
    changes: TahapChanges | None = None
    payment_file: dict[str, Any] = field(default_factory=dict)

    def as_data(self) -> dict[str, Any]:
        """JSON-ready form (what the content hash covers)."""
        data = asdict(self)
        data["changes"] = self.changes.model_dump() if self.changes is not None else None
        return data


def reason_label(code: str) -> str:
    """The Indonesian words for a reason code (the code itself when unknown)."""
    return REASONS.get(code, code)


def tahap_report(figures: TahapFigures) -> ReportDocument:
    """The report document of a tahap."""
    rows = figures.kecamatan
    total = KecamatanFigures(
        "Jumlah",
        *(sum(getattr(r, f) for r in rows) for f in tuple(KecamatanFigures.__dataclass_fields__)[1:]),
    )
    body: list[Flowable] = [
        paragraph(
            f"Program {figures.programme_code}, tahap {figures.label} "
            f"(status: {STATUS.get(figures.status, figures.status)}), "
            f"keadaan per {tanggal(figures.as_of)} untuk penilaian kelayakan. Wilayah laporan: {figures.wilayah}."
        ),
        paragraph(f"Hash daftar tahap (SHA-256): {figures.list_hash or '-'}", "small"),
    ]
    if figures.payment_file:
        f = figures.payment_file
        body.append(
            paragraph(
                f"Berkas pembayaran terakhir: {f['kind']}, {number(f['count'])} baris, {rupiah(f['total'])}, "
                f"SHA-256 {f['sha256']}",
                "small",
            )
        )
    body += [
        heading("1. Penyaluran per kecamatan (jumlah KPM)"),
        table(
            ["Kecamatan", "Terdaftar", "Tersalur", "Gagal", "Ditahan", "% tersalur"],
            [
                [
                    r.kecamatan_code,
                    number(r.listed),
                    number(r.paid),
                    number(r.failed),
                    number(r.on_hold),
                    percent(100.0 * r.paid / r.listed if r.listed else 0.0),
                ]
                for r in [*rows, total]
            ],
            widths=[40 * mm, 27 * mm, 27 * mm, 27 * mm, 27 * mm, 26 * mm],
            numeric=(1, 2, 3, 4, 5),
            total_row=True,
        ),
        heading("2. Penyaluran per kecamatan (nominal)"),
        table(
            ["Kecamatan", "Rencana", "Tersalur", "Gagal", "Ditahan"],
            [
                [
                    r.kecamatan_code,
                    rupiah(r.amount_planned),
                    rupiah(r.amount_paid),
                    rupiah(r.amount_failed),
                    rupiah(r.amount_on_hold),
                ]
                for r in [*rows, total]
            ],
            widths=[34 * mm, 35 * mm, 35 * mm, 35 * mm, 35 * mm],
            numeric=(1, 2, 3, 4),
            total_row=True,
        ),
        Spacer(1, 4 * mm),
        bar_chart(
            "Grafik 1. KPM per kecamatan",
            [r.kecamatan_code for r in rows],
            [
                ("Terdaftar", [r.listed for r in rows]),
                ("Tersalur", [r.paid for r in rows]),
                ("Gagal", [r.failed for r in rows]),
            ],
        ),
    ]
    body += _changes(figures.changes)
    return ReportDocument(
        title="Laporan Penyaluran Tahap",
        subtitle=f"{figures.programme_code} tahap {figures.label}",
        created_at=figures.as_at,
        signed_on=figures.as_at.date(),
        content_hash=content_hash(figures.as_data()),
        body=body,
    )


def _changes(changes: TahapChanges | None) -> list[Flowable]:
    out: list[Flowable] = [heading("3. Perubahan dibanding tahap sebelumnya")]
    if changes is None:
        return [*out, paragraph("Belum ada daftar yang dibuat untuk tahap ini.")]
    if changes.previous_tahap_id is None:
        out.append(paragraph("Tahap pertama program ini: semua keluarga masuk sebagai baru."))
    out.append(
        paragraph(
            f"Sebelumnya {number(changes.previous)} KPM, masuk {number(changes.added)}, keluar "
            f"{number(changes.removed)}, sekarang {number(changes.current)} KPM."
        )
    )
    rows = [
        [k.kecamatan_code, number(k.previous), number(k.added), number(k.removed), number(k.current)]
        for k in changes.kecamatan
    ]
    rows.append(
        ["Jumlah", number(changes.previous), number(changes.added), number(changes.removed), number(changes.current)]
    )
    out.append(
        table(
            ["Kecamatan", "Sebelumnya", "Masuk", "Keluar", "Sekarang"],
            rows,
            widths=[46 * mm, 32 * mm, 32 * mm, 32 * mm, 32 * mm],
            numeric=(1, 2, 3, 4),
            total_row=True,
        )
    )
    added: dict[str, int] = {}
    removed: dict[str, int] = {}
    for k in changes.kecamatan:
        for code, n in k.added_by_reason.items():
            added[code] = added.get(code, 0) + n
        for code, n in k.removed_by_reason.items():
            removed[code] = removed.get(code, 0) + n
    reasons = [["Masuk", reason_label(c), number(n)] for c, n in sorted(added.items())]
    reasons += [["Keluar", reason_label(c), number(n)] for c, n in sorted(removed.items())]
    if reasons:
        out += [
            heading("Alasan masuk dan keluar"),
            table(["Arah", "Alasan", "KPM"], reasons, widths=[30 * mm, 110 * mm, 34 * mm], numeric=(2,)),
        ]
    if changes.kecamatan:
        out += [
            Spacer(1, 4 * mm),
            bar_chart(
                "Grafik 2. Masuk dan keluar per kecamatan",
                [k.kecamatan_code for k in changes.kecamatan],
                [("Masuk", [k.added for k in changes.kecamatan]), ("Keluar", [k.removed for k in changes.kecamatan])],
            ),
        ]
    return out
