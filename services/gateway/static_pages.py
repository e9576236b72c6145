"""Static browser apps of the gateway (the dashboard, the field app) with a strict Content-Security-Policy.

Explicit routes rather than a StaticFiles mount: only the listed files exist, and each answer carries the headers
below (the gateway's SecurityHeaders adds a CSP only under /api).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse, Response

from shared.http.problems import ProblemError

# Everything from this origin only: no inline script or style, no framing, API calls to the same gateway.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
    "worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-cache"}


def static_app_router(*, path: str, folder: Path, files: Mapping[str, str], what: str) -> APIRouter:
    """GET `path` (redirect), `path/` (index.html) and `path/<file>` for the listed files only."""
    router = APIRouter(include_in_schema=False)

    def serve(name: str) -> Response:
        if name not in files:
            raise ProblemError(404, f"No such {what} file.", code="not_found")
        return FileResponse(folder / name, media_type=files[name], headers=HEADERS)

    @router.get(path)
    async def redirect() -> Response:
        """Relative URLs in the page need the trailing slash."""
        return RedirectResponse(f"{path}/", status_code=308)

    @router.get(f"{path}/")
    async def index() -> Response:
        """The page itself."""
        return serve("index.html")

    @router.get(path + "/{name}")
    async def asset(name: str) -> Response:
        """The page's script, stylesheet, catalogues and the like; nothing else is served from here."""
        return serve(name)

    return router
