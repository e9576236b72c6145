"""HTTP responses carrying a PDF report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.responses import Response

from shared.pdf.document import ReportDocument, Signatory, render


@dataclass(frozen=True)
class PdfReport:
    """A rendered report: its bytes, the SHA-256 of the content it certifies, and a file name."""

    content: bytes
    content_hash: str
    filename: str

    @classmethod
    def of(cls, document: ReportDocument, signatory: Signatory, filename: str) -> PdfReport:
        """Render `document`, signed by `signatory`."""
        return cls(content=render(document, signatory), content_hash=document.content_hash, filename=filename)


PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The report (PDF)."},
}


def pdf_response(report: PdfReport) -> Response:
    """The PDF as an attachment, with the SHA-256 of the content it certifies in X-Tepat-Content-SHA256."""
    return Response(
        report.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{report.filename}"',
            "X-Tepat-Content-SHA256": report.content_hash,
        },
    )
