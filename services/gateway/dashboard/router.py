"""Serves the dashboard's static files at /dashboard/ with a strict Content-Security-Policy.

Explicit routes rather than a StaticFiles mount: only these files exist, and each answer carries the headers
below (the gateway's SecurityHeaders adds a CSP only under /api).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse, Response

from shared.http.problems import ProblemError

STATIC = Path(__file__).parent / "static"
FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    # One message catalogue per language; the page reads them with fetch (connect-src 'self').
    "messages-id.json": "application/json",
    "messages-en.json": "application/json",
}
# Everything from this origin only: no inline script or style, no framing, API calls to the same gateway.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
async def dashboard_redirect() -> Response:
    """Relative URLs in the page need the trailing slash."""
    return RedirectResponse("/dashboard/", status_code=308)


@router.get("/dashboard/")
async def dashboard_index() -> Response:
    """The page itself."""
    return _file("index.html")


@router.get("/dashboard/{name}")
async def dashboard_asset(name: str) -> Response:
    """The page's script, stylesheet and message catalogues; nothing else is served from here."""
    return _file(name)


def _file(name: str) -> Response:
    if name not in FILES:
        raise ProblemError(404, "No such dashboard file.", code="not_found")
    return FileResponse(STATIC / name, media_type=FILES[name], headers=HEADERS)
