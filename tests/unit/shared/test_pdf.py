"""The PDF report frame: Indonesian formats, page numbers, the content hash in the footer, determinism, vector
charts and a clear error when the fonts are missing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from shared.pdf import fonts
from shared.pdf.document import ReportDocument, Signatory, bar_chart, content_hash, paragraph, render, table
from shared.pdf.formats import number, percent, rupiah, tanggal
from tests.support.pdf import page_count, pdf_text

SIGNATORY = Signatory("Padang", "Kepala Dinas Sosial Kota Padang", "Nama Pejabat", "19700101 199503 1 001")


def _document(lines: int, data: object) -> ReportDocument:
    body = [
        table(["Kecamatan", "KPM"], [["13.71.01", number(1234)], ["Jumlah", number(1234)]], numeric=(1,)),
        bar_chart("Grafik", ["13.71.01", "13.71.02"], [("Terdaftar", [5, 3]), ("Tersalur", [4, 1])]),
        *(paragraph(f"baris {i} <b>&</b>") for i in range(lines)),
    ]
    return ReportDocument(
        title="Laporan Uji",
        subtitle="Sub judul",
        created_at=datetime(2026, 6, 20, 8, 30, tzinfo=UTC),
        signed_on=date(2026, 6, 20),
        content_hash=content_hash(data),
        body=body,
    )


def test_indonesian_formats() -> None:
    assert number(1234567) == "1.234.567"
    assert number(0) == "0"
    assert rupiah(600000) == "Rp 600.000"
    assert percent(33.333) == "33,3%"
    assert tanggal(date(2026, 6, 20)) == "20 Juni 2026"
    assert tanggal(date(2026, 1, 1)) == "1 Januari 2026"


def test_content_hash_is_canonical() -> None:
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})
    assert len(content_hash({"d": date(2026, 1, 1)})) == 64


def test_pages_numbered_hash_in_every_footer_and_signature_block() -> None:
    data = {"tahap": "2026-II", "listed": 1234}
    pdf = render(_document(150, data), SIGNATORY)
    text = pdf_text(pdf)
    pages = page_count(text)
    assert pages >= 3
    assert text.count(f"SHA-256 isi dokumen: {content_hash(data)}") == pages
    assert "Padang, 20 Juni 2026" in text
    assert "Kepala Dinas Sosial Kota Padang" in text
    assert "NIP. 19700101 199503 1 001" in text
    assert "baris 3 <b>&</b>" in text  # data is text, never markup
    assert "1.234" in text


def test_same_content_same_bytes_and_creation_date_from_the_data() -> None:
    first = render(_document(10, {"x": 1}), SIGNATORY)
    assert render(_document(10, {"x": 1}), SIGNATORY) == first
    assert render(_document(10, {"x": 2}), SIGNATORY) != first
    assert b"/CreationDate (D:20260620083000+00'00')" in first


def test_charts_are_vector_graphics() -> None:
    pdf = render(_document(0, {}), SIGNATORY)
    assert b"/Subtype /Image" not in pdf
    text = pdf_text(pdf)
    assert "Terdaftar" in text
    assert "Tersalur" in text


def test_missing_font_is_a_clear_503(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fonts.FONT_DIR_ENV, str(tmp_path))
    fonts.register_fonts.cache_clear()
    try:
        with pytest.raises(fonts.FontMissingError) as caught:
            fonts.register_fonts()
        assert caught.value.status == 503
        assert "fonts-dejavu-core" in caught.value.detail
        assert str(tmp_path / "DejaVuSans.ttf") in caught.value.detail
    finally:
        fonts.register_fonts.cache_clear()
