"""Stand-in house photos for the demo city's visits: small, deterministic JPEGs, different for every family."""

from __future__ import annotations

import hashlib
import io

from PIL import Image, ImageDraw


def house_photo(key: str) -> bytes:
    """A 160 by 120 JPEG of a house drawn in colours taken from `key` (the same key, the same bytes)."""
    digest = hashlib.sha256(key.encode()).digest()
    wall, roof = tuple(digest[:3]), tuple(digest[3:6])
    image = Image.new("RGB", (160, 120), (214, 232, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 55, 120, 110), fill=wall)
    draw.polygon(((30, 58), (80, 20), (130, 58)), fill=roof)
    draw.rectangle((72, 80, 88, 110), fill=(90, 60, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()
