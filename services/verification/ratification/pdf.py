"""The berita acara pengesahan (ratification minutes) of a batch as a PDF: pure functions over plain data.

It names the batch, its cycle and wilayah, who prepared, submitted and ratified it, the usulan per kecamatan and
per kind, the SHA-256 of the batch's list (rules.list_hash) and of its attached documents, and lists the usulan
(ids and codes only: verification holds no names).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from shared.pdf.document import ReportDocument, content_hash, heading, paragraph, table
from shared.pdf.formats import number, tanggal

KINDS = {
    "new_family": "keluarga baru",
    "data_correction": "perbaikan data",
    "desil_review": "peninjauan desil",
    "removal": "penghapusan",
    "withdrawal": "pencabutan",
    "recipient_change": "penggantian pengurus",
}
CHANNELS = {
    "kelurahan": "kelurahan (musyawarah)",
    "dinsos_counter": "loket Dinas Sosial",
    "citizen_app": "aplikasi warga",
    "digital_agent": "agen digital",
}
STATES = {
    "draft": "draf (belum diajukan)",
    "submitted": "diajukan, menunggu pengesahan",
    "ratified": "disahkan",
    "sent": "disahkan dan dikirim ke kementerian",
}


@dataclass(frozen=True)
class BatchMinutes:
    """What the berita acara certifies."""

    batch_id: int
    cycle: str
    wilayah_code: str
    status: str
    prepared_by: str
    prepared_at: datetime
    submitted_at: datetime | None
    ratified_by: str | None
    ratified_at: datetime | None
    list_sha256: str
    documents: dict[str, str]
    usulan: list[dict[str, Any]]

    def as_at(self) -> datetime:
        """The newest moment of the batch: the document's date."""
        return max(m for m in (self.prepared_at, self.submitted_at, self.ratified_at) if m is not None)


def _when(moment: datetime | None) -> str:
    return tanggal(moment.date()) if moment is not None else "-"


def _count(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r[key]] = out.get(r[key], 0) + 1
    return dict(sorted(out.items()))


def berita_acara(minutes: BatchMinutes) -> ReportDocument:
    """The report document of a batch."""
    rows = minutes.usulan
    signed = minutes.ratified_at is not None
    opening = (
        f"Pada tanggal {_when(minutes.ratified_at)} telah disahkan {number(len(rows))} usulan"
        if signed
        else f"Batch ini memuat {number(len(rows))} usulan yang belum disahkan"
    )
    body: list[Flowable] = [
        paragraph(
            f"{opening} siklus {minutes.cycle} wilayah {minutes.wilayah_code}, yang seluruhnya telah melalui "
            "verifikasi lapangan dengan hasil layak."
        ),
        table(
            ["Keterangan", "Isi"],
            [
                ["Nomor batch", str(minutes.batch_id)],
                ["Siklus", minutes.cycle],
                ["Wilayah", minutes.wilayah_code],
                ["Status", STATES.get(minutes.status, minutes.status)],
                ["Disiapkan oleh", f"{minutes.prepared_by}, {_when(minutes.prepared_at)}"],
                ["Diajukan", _when(minutes.submitted_at)],
                ["Disahkan oleh", f"{minutes.ratified_by}, {_when(minutes.ratified_at)}" if signed else "-"],
                ["Jumlah usulan", number(len(rows))],
            ],
            widths=[45 * mm, 129 * mm],
        ),
        heading("Hash daftar dan dokumen (SHA-256)"),
        table(
            ["Dokumen", "SHA-256"],
            [
                ["Daftar usulan batch ini", minutes.list_sha256],
                *([f"Lampiran: {role}", sha] for role, sha in sorted(minutes.documents.items())),
            ],
            widths=[45 * mm, 129 * mm],
        ),
        heading("Usulan per kecamatan"),
        table(
            ["Kecamatan", "Usulan"],
            [[k, number(n)] for k, n in _count(rows, "kecamatan_code").items()] + [["Jumlah", number(len(rows))]],
            widths=[87 * mm, 87 * mm],
            numeric=(1,),
            total_row=True,
        ),
        heading("Usulan per jenis"),
        table(
            ["Jenis", "Usulan"],
            [[KINDS.get(k, k), number(n)] for k, n in _count(rows, "kind").items()],
            widths=[87 * mm, 87 * mm],
            numeric=(1,),
        ),
        heading("Lampiran: daftar usulan"),
        table(
            ["No", "ID usulan", "ID keluarga", "Kelurahan", "Jenis", "Saluran", "Cek lapangan"],
            [
                [
                    str(i),
                    str(r["id"]),
                    r["household_id"] or "(keluarga baru)",
                    r["kelurahan_code"],
                    KINDS.get(r["kind"], r["kind"]),
                    CHANNELS.get(r["channel"], r["channel"]),
                    str(r["ground_check_id"] or "-"),
                ]
                for i, r in enumerate(rows, start=1)
            ],
            widths=[10 * mm, 18 * mm, 34 * mm, 27 * mm, 30 * mm, 33 * mm, 22 * mm],
            numeric=(0, 1, 6),
        ),
    ]
    return ReportDocument(
        title="Berita Acara Pengesahan Usulan",
        subtitle=f"Batch {minutes.batch_id}, siklus {minutes.cycle}",
        created_at=minutes.as_at(),
        signed_on=minutes.as_at().date(),
        content_hash=content_hash(asdict(minutes)),
        body=body,
    )
