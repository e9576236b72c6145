"""What an uploaded evidence file really is, and the copy of it that is kept.

Images are decoded and encoded again: the stored copy carries no EXIF (camera, owner, time, GPS), no text chunks
and no trailing bytes, and is at most MAX_SIDE pixels on its longer side. The GPS position of a photo is read from
its EXIF before it is dropped and kept as data only when the form asks for it. PDFs and CSV files are checked
for what they claim to be and stored as they are."""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_SIDE = 2048
JPEG_QUALITY = 85
# A decompression bomb is refused before it is decoded (about 40 megapixels: four times a phone photo).
Image.MAX_IMAGE_PIXELS = 40_000_000
EXIF_GPS_IFD = 0x8825
MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/pdf": (b"%PDF-",),
}
MEDIA_TYPES = frozenset({*MAGIC, "text/csv"})
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})


class ContentError(ValueError):
    """The file is not what it claims to be, or cannot be used as evidence."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Kept:
    """The bytes to store and what was learnt from the original."""

    content: bytes
    media_type: str
    gps: tuple[float, float] | None


def keep(content: bytes, media_type: str, *, keep_gps: bool) -> Kept:
    """The copy of an upload that is stored; raises ContentError for anything else."""
    if media_type not in MEDIA_TYPES:
        raise ContentError("media_type.unsupported", f"{media_type} is not accepted; use one of {sorted(MEDIA_TYPES)}.")
    if not content:
        raise ContentError("file.empty", "The file is empty.")
    if media_type == "text/csv":
        return Kept(_csv(content), media_type, None)
    if not content.startswith(MAGIC[media_type]):
        raise ContentError("media_type.mismatch", f"The file's content is not {media_type}.")
    if media_type == "application/pdf":
        return Kept(content, media_type, None)
    return _image(content, media_type, keep_gps=keep_gps)


def _csv(content: bytes) -> bytes:
    if b"\x00" in content:
        raise ContentError("media_type.mismatch", "A CSV file holds no NUL bytes.")
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError("encoding.invalid", f"A CSV file must be UTF-8 (byte {exc.start}).") from None
    return content


def _image(content: bytes, media_type: str, *, keep_gps: bool) -> Kept:
    try:
        with Image.open(io.BytesIO(content)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(content)) as original:
            if original.format != {"image/jpeg": "JPEG", "image/png": "PNG"}[media_type]:
                raise ContentError("media_type.mismatch", f"The file's content is not {media_type}.")
            gps = gps_of(original.getexif().get_ifd(EXIF_GPS_IFD)) if keep_gps else None
            # Turned upright first: the orientation tag goes with the rest of the EXIF.
            upright = ImageOps.exif_transpose(original)
            upright.thumbnail((MAX_SIDE, MAX_SIDE))
            out = io.BytesIO()
            if media_type == "image/jpeg":
                upright.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
            else:
                upright.save(out, "PNG", optimize=True)
    except Image.DecompressionBombError:
        raise ContentError("image.too_large", "The image has too many pixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, ContentError):
            raise
        raise ContentError("image.unreadable", "The image cannot be decoded.") from None
    return Kept(out.getvalue(), media_type, gps)


def gps_of(ifd: dict[int, Any]) -> tuple[float, float] | None:
    """Latitude and longitude in degrees from an EXIF GPS IFD, or None when it holds no usable position."""
    try:
        lat = _degrees(ifd[2], ifd.get(1, "N"), "S")
        lon = _degrees(ifd[4], ifd.get(3, "E"), "W")
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return round(lat, 7), round(lon, 7)


def _degrees(parts: Any, ref: Any, negative: str) -> float:
    d, m, s = (Fraction(float(p)).limit_denominator(10**6) for p in parts)
    value = float(d + m / 60 + s / 3600)
    ref_text = ref.decode() if isinstance(ref, bytes) else str(ref)
    return -value if ref_text.strip().upper() == negative else value
