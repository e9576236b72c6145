"""HTTP responses carrying a PDF report."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The report (PDF)."},
}


def pdf_response(content: bytes, content_hash: str, filename: str) -> Response:
    """The PDF as an attachment, with the SHA-256 of the content it certifies in X-Tepat-Content-SHA256."""
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Tepat-Content-SHA256": content_hash,
        },
    )
