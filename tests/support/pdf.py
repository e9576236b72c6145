"""Reading PDF reports back in tests: text through pdftotext, the first page through pdftoppm (poppler-utils)."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

ARTEFACTS = Path(__file__).resolve().parents[2] / ".tepat" / "artefacts"


def pdf_text(data: bytes) -> str:
    """The PDF's text with its layout kept (one table row per line)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        fh.write(data)
        fh.flush()
        done = subprocess.run(["pdftotext", "-layout", fh.name, "-"], capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def page_count(text: str) -> int:
    """The N of "Halaman x dari N", after checking every page 1..N carries its number."""
    numbers = [(int(a), int(b)) for a, b in re.findall(r"Halaman (\d+) dari (\d+)", text)]
    assert numbers, "no page numbers"
    total = numbers[0][1]
    assert numbers == [(i, total) for i in range(1, total + 1)], numbers
    return total


def rows_starting_with(text: str, first: str) -> list[list[str]]:
    """The layout lines whose first cell is `first`, split into cells (runs of two or more spaces)."""
    out = []
    for line in text.splitlines():
        cells = [c for c in re.split(r"\s{2,}", line.strip()) if c]
        if cells and cells[0] == first and len(cells) > 1:
            out.append(cells)
    return out


def save_first_page(data: bytes, name: str) -> Path:
    """Render the first page at 50 dpi into .tepat/artefacts/<name>.png (a test artefact) and return its path."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "report.pdf"
        source.write_bytes(data)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", str(source), str(Path(tmp) / "p")],
            check=True,
        )
        target = ARTEFACTS / f"{name}.png"
        target.write_bytes((Path(tmp) / "p.png").read_bytes())
    return target


def assert_non_blank_png(path: Path) -> None:
    """A PNG of a page with something dark on it (text, lines, bars), not an empty white sheet."""
    with Image.open(path) as image:
        assert image.format == "PNG"
        grey = image.convert("L")
        dark = sum(grey.histogram()[:128])
        assert dark > 0.002 * grey.width * grey.height, f"{path} looks blank"


def number(value: int) -> str:
    """An integer as the reports write it (dots between thousands)."""
    return f"{value:,}".replace(",", ".")
