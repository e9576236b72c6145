"""One frame for every PDF report: title block, tables, vector bar charts, the signature block, and a footer with
"Halaman x dari y" and the SHA-256 of the content the document certifies.

Deterministic: ReportLab's invariant mode (fixed document id and no clock), the creation date taken from the data,
and no random names, so the same content gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from shared.pdf.fonts import register_fonts
from shared.pdf.formats import tanggal

MARGIN = 18 * mm
SERIES_COLOURS = (colors.HexColor("#1f5f8b"), colors.HexColor("#3a9d5d"), colors.HexColor("#c0392b"))


@dataclass(frozen=True)
class Signatory:
    """Who signs a report: place, date comes with the report; jabatan, name and NIP."""

    place: str
    title: str
    name: str
    nip: str


@dataclass
class ReportDocument:
    """A report to render: its title lines, body flowables and what it certifies (`content_hash`)."""

    title: str
    subtitle: str
    created_at: datetime
    signed_on: date
    content_hash: str
    body: list[Flowable] = field(default_factory=list)


def content_hash(data: Any) -> str:
    """SHA-256 of the data a report certifies, as canonical JSON (sorted keys, no spaces, dates as ISO text)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def styles() -> dict[str, ParagraphStyle]:
    """The reports' paragraph styles (DejaVu Sans)."""
    regular, bold = register_fonts()
    return {
        "title": ParagraphStyle("title", fontName=bold, fontSize=14, leading=18, alignment=TA_CENTER),
        "subtitle": ParagraphStyle("subtitle", fontName=regular, fontSize=10, leading=13, alignment=TA_CENTER),
        "heading": ParagraphStyle("heading", fontName=bold, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4),
        "body": ParagraphStyle("body", fontName=regular, fontSize=9, leading=12),
        "small": ParagraphStyle("small", fontName=regular, fontSize=7.5, leading=9.5),
        "cell": ParagraphStyle("cell", fontName=regular, fontSize=8, leading=10),
    }


def heading(text: str) -> Paragraph:
    """A section heading."""
    return Paragraph(escape(text), styles()["heading"])


def paragraph(text: str, style: str = "body") -> Paragraph:
    """Plain text as a paragraph (escaped: data never becomes markup)."""
    return Paragraph(escape(text), styles()[style])


def escape(text: str) -> str:
    """Text safe inside a ReportLab paragraph."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    widths: Sequence[float] | None = None,
    numeric: Sequence[int] = (),
    total_row: bool = False,
) -> Table:
    """A grid with a bold header repeated on every page; `numeric` columns right-aligned; an optional total row."""
    regular, bold = register_fonts()
    cell = styles()["cell"]
    data = [[Paragraph(escape(h), ParagraphStyle("th", parent=cell, fontName=bold)) for h in header]]
    data += [list(r) for r in rows]
    grid = Table(data, colWidths=list(widths) if widths else None, repeatRows=1)
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 1), (-1, -1), regular, 8),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3ebf2")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    commands += [("ALIGN", (c, 1), (c, -1), "RIGHT") for c in numeric]
    if total_row and rows:
        commands += [("FONT", (0, -1), (-1, -1), bold, 8), ("BACKGROUND", (0, -1), (-1, -1), colors.whitesmoke)]
    grid.setStyle(TableStyle(commands))
    return grid


def bar_chart(
    title: str, categories: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], *, width: float = 170 * mm
) -> Drawing:
    """Grouped vertical bars, one group per category, with a legend: vector graphics, not a raster image."""
    regular, bold = register_fonts()
    height = 70 * mm
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, title, fontName=bold, fontSize=9))
    chart = VerticalBarChart()
    chart.x, chart.y = 30, 38
    chart.width, chart.height = width - 40, height - 68
    chart.data = [list(values) for _, values in series] or [[0]]
    chart.categoryAxis.categoryNames = list(categories) or ["-"]
    chart.categoryAxis.labels.fontName = regular
    chart.categoryAxis.labels.fontSize = 6.5
    chart.categoryAxis.labels.angle = 30
    chart.categoryAxis.labels.boxAnchor = "ne"
    chart.valueAxis.labels.fontName = regular
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    peak = max((v for _, values in series for v in values), default=0)
    chart.valueAxis.valueMax = max(peak, 1) * 1.1
    chart.valueAxis.valueStep = _step(peak)
    chart.valueAxis.labelTextFormat = "%d"
    chart.groupSpacing = 6
    for i in range(len(series)):
        chart.bars[i].fillColor = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        chart.bars[i].strokeWidth = 0
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = width - 10, height - 6
    legend.boxAnchor = "ne"
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.fontName = regular
    legend.fontSize = 7.5
    legend.dx = legend.dy = 7
    legend.colorNamePairs = [(SERIES_COLOURS[i % len(SERIES_COLOURS)], name) for i, (name, _) in enumerate(series)]
    drawing.add(legend)
    return drawing


def _step(peak: int) -> int:
    """A round axis step giving about five gridlines."""
    raw = max(peak, 1) / 5
    magnitude = 10 ** (len(str(int(raw))) - 1)
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return max(int(factor * magnitude), 1)
    return max(int(10 * magnitude), 1)


def signature_block(signatory: Signatory, signed_on: date) -> KeepTogether:
    """Place and date, jabatan, room to sign, name and NIP, on the right half of the page."""
    regular, bold = register_fonts()
    s = styles()["body"]
    rows = [
        [Paragraph(escape(f"{signatory.place}, {tanggal(signed_on)}"), s)],
        [Paragraph(escape(signatory.title), s)],
        [Spacer(1, 18 * mm)],
        [Paragraph(f"<u>{escape(signatory.name)}</u>", ParagraphStyle("sig", parent=s, fontName=bold))],
        [Paragraph(escape(f"NIP. {signatory.nip}"), s)],
    ]
    block = Table(rows, colWidths=[80 * mm], hAlign="RIGHT")
    block.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("FONT", (0, 0), (-1, -1), regular, 9)]))
    return KeepTogether([Spacer(1, 10 * mm), block])


def render(report: ReportDocument, signatory: Signatory) -> bytes:
    """The PDF bytes: title, body, signature block; every page's footer carries its number and the content hash."""
    regular, _ = register_fonts()
    s = styles()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 6 * mm,
        title=report.title,
        subject=report.subtitle,
        author=signatory.title,
        creator="Tepat",
        producer="Tepat (ReportLab)",
        invariant=1,
    )
    story: list[Flowable] = [
        Paragraph(escape(report.title), s["title"]),
        Paragraph(escape(report.subtitle), s["subtitle"]),
        Spacer(1, 6 * mm),
        *report.body,
        signature_block(signatory, report.signed_on),
    ]
    footer = f"SHA-256 isi dokumen: {report.content_hash}"
    created = report.created_at.astimezone(UTC) if report.created_at.tzinfo else report.created_at.replace(tzinfo=UTC)

    def numbered(*args: Any, **kwargs: Any) -> Canvas:
        return _NumberedCanvas(*args, footer=footer, font=regular, created=created, **kwargs)

    doc.build(story, canvasmaker=numbered)
    return out.getvalue()


class _NumberedCanvas(Canvas):  # type: ignore[misc]
    """Holds every page until the end, so each footer can say "Halaman x dari y"."""

    def __init__(self, *args: Any, footer: str, font: str, created: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer_text = footer
        self._footer_font = font
        self._pages: list[dict[str, Any]] = []
        _fix_creation_date(self, created)

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._draw_footer(number, total)
            super().showPage()
        super().save()

    def _draw_footer(self, number: int, total: int) -> None:
        width, _ = A4
        self.saveState()
        self.setFont(self._footer_font, 7)
        self.setStrokeColor(colors.HexColor("#9aa5b1"))
        self.line(MARGIN, MARGIN, width - MARGIN, MARGIN)
        self.drawString(MARGIN, MARGIN - 10, self._footer_text)
        self.drawRightString(width - MARGIN, MARGIN - 10, f"Halaman {number} dari {total}")
        self.restoreState()


def _fix_creation_date(canvas: Canvas, created: datetime) -> None:
    """The document's creation and modification dates from the data (invariant mode would say 2000-01-01)."""
    # ReportLab keeps the document's clock here; it has no setter for it.
    stamp = canvas._doc._timeStamp
    stamp.t = created.timestamp()
    stamp.lt = tuple(created.utctimetuple())
    stamp.YMDhms = stamp.lt[:6]
    stamp.tzname = "UTC"
    stamp.dhh, stamp.dmm = 0, 0
