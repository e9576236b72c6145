"""/docs (Swagger UI) and /redoc (ReDoc) with their assets from this installation, under a strict CSP.

The Swagger UI and ReDoc bundles come from the `fastapi-offline` package (Swagger UI: Apache-2.0, ReDoc: MIT);
FastAPI's own pages load them from a CDN, which Dinsos networks cannot reach. The pages hold no inline script:
Swagger UI is started by swagger-init.js, ReDoc by its <redoc> element.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from shared.http.problems import ProblemError

_VENDORED = Path(str(files("fastapi_offline") / "static"))
_OWN = Path(__file__).parent / "static"
ASSETS = {
    "swagger-ui-bundle.js": (_VENDORED, "text/javascript; charset=utf-8"),
    "swagger-ui.css": (_VENDORED, "text/css; charset=utf-8"),
    "redoc.standalone.js": (_VENDORED, "text/javascript; charset=utf-8"),
    "favicon.png": (_VENDORED, "image/png"),
    "swagger-init.js": (_OWN, "text/javascript; charset=utf-8"),
}
ASSET_PREFIX = "/docs/assets/"
# Scripts only from this origin and never inline or eval'd; both UIs set element styles at run time, and ReDoc
# builds its search index in a blob: worker.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {"Content-Security-Policy": CSP}

_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{title}}</title>
<link rel="icon" type="image/png" href="{ASSET_PREFIX}favicon.png">
{{head}}
</head>
<body>
{{body}}
</body>
</html>
"""
_SWAGGER_HEAD = f'<link rel="stylesheet" href="{ASSET_PREFIX}swagger-ui.css">'
_SWAGGER_BODY = f"""<div id="swagger-ui"></div>
<script src="{ASSET_PREFIX}swagger-ui-bundle.js"></script>
<script src="{ASSET_PREFIX}swagger-init.js"></script>"""
_REDOC_BODY = f"""<redoc spec-url="/openapi.json"></redoc>
<script src="{ASSET_PREFIX}redoc.standalone.js"></script>"""


def apidocs_router(title: str) -> APIRouter:
    """The two documentation pages and their assets (the app itself is built with docs_url=redoc_url=None)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def swagger_ui() -> Response:
        page = _PAGE.format(title=f"{title} - Swagger UI", head=_SWAGGER_HEAD, body=_SWAGGER_BODY)
        return HTMLResponse(page, headers=HEADERS)

    @router.get("/redoc")
    async def redoc() -> Response:
        return HTMLResponse(_PAGE.format(title=f"{title} - ReDoc", head="", body=_REDOC_BODY), headers=HEADERS)

    @router.get(ASSET_PREFIX + "{name}")
    async def asset(name: str) -> Response:
        if name not in ASSETS:
            raise ProblemError(404, "No such documentation file.", code="not_found")
        folder, media_type = ASSETS[name]
        return FileResponse(folder / name, media_type=media_type, headers=HEADERS)

    return router
