"""The tahap report builder over plain figures: tables, totals, reasons in words, the hash of the figures."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.disbursement.reports.pdf import KecamatanFigures, TahapFigures, reason_label, tahap_report
from services.disbursement.tahap.schemas import KecamatanChange, TahapChanges
from shared.pdf.document import Signatory, content_hash, render
from tests.support.pdf import page_count, pdf_text, rows_starting_with

SIGNATORY = Signatory("Padang", "Kepala Dinas Sosial Kota Padang", "Nama Pejabat", "-")


def _figures(changes: TahapChanges | None) -> TahapFigures:
    return TahapFigures(
        tahap_id="t-2",
        programme_code="SEMBAKO",
        label="2026-II",
        status="paying",
        as_of=date(2026, 6, 20),
        list_hash="ab" * 32,
        wilayah="13.71",
        as_at=datetime(2026, 6, 21, 9, 0, tzinfo=UTC),
        kecamatan=[
            KecamatanFigures("13.71.01", 1200, 720_000_000, 1000, 600_000_000, 150, 90_000_000, 50, 30_000_000),
            KecamatanFigures("13.71.02", 800, 480_000_000, 790, 474_000_000, 0, 0, 10, 6_000_000),
        ],
        changes=changes,
    )


CHANGES = TahapChanges(
    tahap_id="t-2",
    previous_tahap_id="t-1",
    previous=1950,
    added=80,
    removed=30,
    current=2000,
    kecamatan=[
        KecamatanChange(
            kecamatan_code="13.71.01",
            previous=1180,
            added=40,
            removed=20,
            current=1200,
            added_by_reason={"newly_eligible": 40},
            removed_by_reason={"desil_rose": 12, "deceased": 8},
        ),
        KecamatanChange(
            kecamatan_code="13.71.02",
            previous=770,
            added=40,
            removed=10,
            current=800,
            added_by_reason={"newly_eligible": 38, "moved_in": 2},
            removed_by_reason={"over_quota": 10},
        ),
    ],
)


def test_tables_totals_and_reasons() -> None:
    figures = _figures(CHANGES)
    document = tahap_report(figures)
    assert document.content_hash == content_hash(figures.as_data())
    text = pdf_text(render(document, SIGNATORY))
    assert page_count(text) >= 1
    counts, amounts, changes = rows_starting_with(text, "13.71.01")[:3]
    assert counts[1:] == ["1.200", "1.000", "150", "50", "83,3%"]
    assert amounts[1:] == ["Rp 720.000.000", "Rp 600.000.000", "Rp 90.000.000", "Rp 30.000.000"]
    assert changes[1:] == ["1.180", "40", "20", "1.200"]
    totals = rows_starting_with(text, "Jumlah")
    assert totals[0][1:] == ["2.000", "1.790", "150", "60", "89,5%"]
    assert totals[1][1:] == ["Rp 1.200.000.000", "Rp 1.074.000.000", "Rp 90.000.000", "Rp 36.000.000"]
    assert totals[2][1:] == ["1.950", "80", "30", "2.000"]
    assert "desil naik di atas batas" in text
    assert "meninggal dunia" in text
    assert "pindah masuk dari kecamatan lain" in text
    assert reason_label("something_new") == "something_new"


def test_other_figures_other_hash_and_no_changes_said_plainly() -> None:
    assert tahap_report(_figures(None)).content_hash != tahap_report(_figures(CHANGES)).content_hash
    text = pdf_text(render(tahap_report(_figures(None)), SIGNATORY))
    assert "Belum ada daftar yang dibuat untuk tahap ini." in text
