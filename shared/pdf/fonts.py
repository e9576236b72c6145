"""The reports' fonts: DejaVu Sans from Debian's fonts-dejavu-core, at its packaged path.

ReportLab's built-in Helvetica has no glyphs beyond Latin-1 and is not embedded; DejaVu covers every character a
name or address may hold and is embedded in the file, so a report prints the same everywhere.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from shared.http.problems import ProblemError

FONT_DIR_ENV = "TEPAT_PDF_FONT_DIR"
DEFAULT_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
PACKAGE = "fonts-dejavu-core"


class FontMissingError(ProblemError):
    """A font file the reports need is not installed (503: the installation, not the request, is at fault)."""

    def __init__(self, detail: str) -> None:
        super().__init__(503, detail, code="pdf_font_missing")


def font_dir() -> Path:
    """Where the TTF files are: $TEPAT_PDF_FONT_DIR, else the Debian package's folder."""
    return Path(os.environ.get(FONT_DIR_ENV) or DEFAULT_FONT_DIR)


@cache
def register_fonts() -> tuple[str, str]:
    """Register the regular and bold faces once; their names. FontMissingError says what to install."""
    folder = font_dir()
    for name in (REGULAR, BOLD):
        path = folder / f"{name}.ttf"
        if not path.is_file():
            raise FontMissingError(
                f"PDF reports need the font file {path}: install the Debian package {PACKAGE} "
                f"(apt-get install {PACKAGE}) or point {FONT_DIR_ENV} at a folder holding {name}.ttf."
            )
        pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)
    return REGULAR, BOLD
