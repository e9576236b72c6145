"""Real image files for evidence tests: a JPEG with EXIF (camera, GPS, orientation) as phones write them."""

from __future__ import annotations

import io

from PIL import Image

# Padang city hall, roughly: 0°57'S 100°21'E.
PADANG_GPS = {1: "S", 2: (0.0, 57.0, 0.0), 3: "E", 4: (100.0, 21.0, 0.0)}


def phone_jpeg(width: int = 400, height: int = 300, *, gps: bool = True, color: str = "teal") -> bytes:
    """A JPEG with EXIF make/model/owner, orientation and (optionally) a GPS position."""
    image = Image.new("RGB", (width, height), color)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x013B] = "Budi Santoso"  # Artist: personal data that must not survive
    exif[0x0112] = 1  # Orientation
    if gps:
        exif[0x8825] = PADANG_GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def png_with_text() -> bytes:
    """A PNG carrying a text chunk (a comment with personal data)."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "NIK 1371015505800001")
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(out, "PNG", pnginfo=info)
    return out.getvalue()
