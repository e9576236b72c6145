"""What is kept of an uploaded evidence file: real content only, no EXIF or text chunks, GPS only when asked."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from services.verification.evidence import content
from services.verification.evidence.content import ContentError, keep
from services.verification.evidence.storage import EvidenceStore
from tests.support.images import phone_jpeg, png_with_text


def test_a_phone_photo_loses_its_exif_and_keeps_gps_only_when_asked() -> None:
    original = phone_jpeg()
    assert b"Budi Santoso" in original
    with_gps = keep(original, "image/jpeg", keep_gps=True)
    without = keep(original, "image/jpeg", keep_gps=False)
    assert with_gps.gps == pytest.approx((-0.95, 100.35), abs=1e-6)
    assert without.gps is None
    for kept in (with_gps, without):
        assert b"Budi Santoso" not in kept.content
        assert b"PhoneMaker" not in kept.content
        with Image.open(io.BytesIO(kept.content)) as image:
            assert (image.format, image.size) == ("JPEG", (400, 300))
            assert dict(image.getexif()) == {}
    # The same upload gives the same stored bytes (and so the same hash).
    assert keep(original, "image/jpeg", keep_gps=False).content == without.content


def test_large_photos_are_scaled_to_the_longest_side_limit() -> None:
    kept = keep(phone_jpeg(4000, 1000, gps=False), "image/jpeg", keep_gps=False)
    with Image.open(io.BytesIO(kept.content)) as image:
        assert image.size == (content.MAX_SIDE, content.MAX_SIDE // 4)


def test_png_text_chunks_are_dropped() -> None:
    original = png_with_text()
    assert b"1371015505800001" in original
    kept = keep(original, "image/png", keep_gps=True)
    assert b"1371015505800001" not in kept.content
    assert kept.gps is None


@pytest.mark.parametrize(
    ("data", "media_type", "code"),
    [
        (b"%PDF-1.7 ...", "image/jpeg", "media_type.mismatch"),
        (phone_jpeg(), "image/png", "media_type.mismatch"),
        (b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg", "image.unreadable"),
        (b"MZ\x90\x00", "application/x-msdownload", "media_type.unsupported"),
        (b"", "application/pdf", "file.empty"),
        (b"nik,nama\n\xff\xfe", "text/csv", "encoding.invalid"),
        (b"a,b\n\x00", "text/csv", "media_type.mismatch"),
    ],
)
def test_files_that_are_not_what_they_claim_are_refused(data: bytes, media_type: str, code: str) -> None:
    with pytest.raises(ContentError) as caught:
        keep(data, media_type, keep_gps=False)
    assert caught.value.code == code


def test_a_decompression_bomb_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    with pytest.raises(ContentError) as caught:
        keep(phone_jpeg(400, 300, gps=False), "image/jpeg", keep_gps=False)
    assert caught.value.code == "image.too_large"


def test_pdf_and_csv_are_kept_as_sent() -> None:
    assert keep(b"%PDF-1.4 minutes", "application/pdf", keep_gps=False).content == b"%PDF-1.4 minutes"
    assert keep(b"nik,nama\n1,Ani\n", "text/csv", keep_gps=False).content == b"nik,nama\n1,Ani\n"


def test_gps_of_refuses_impossible_positions() -> None:
    assert content.gps_of({1: "N", 2: (95.0, 0.0, 0.0), 3: "E", 4: (100.0, 0.0, 0.0)}) is None
    assert content.gps_of({2: (1.0, 0.0, 0.0)}) is None
    assert content.gps_of({1: b"S", 2: (0.0, 30.0, 0.0), 3: b"W", 4: (10.0, 0.0, 36.0)}) == (-0.5, -10.01)


def test_the_store_keeps_each_content_once_under_its_hash(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "evidence")
    first = store.put(b"photo bytes")
    assert store.put(b"photo bytes") == first
    assert store.path_of(first).read_bytes() == b"photo bytes"
    assert store.path_of(first).relative_to(tmp_path / "evidence").parts[:2] == (first[:2], first[2:4])
    assert store.has(first)
    assert not store.has("0" * 64)
    # No temporary file is left beside it.
    assert [p.name for p in store.path_of(first).parent.iterdir()] == [first]
