"""Serves the dashboard's static files at /dashboard/ (services/gateway/static_pages.py sets the CSP)."""

from __future__ import annotations

from pathlib import Path

from services.gateway.static_pages import static_app_router

STATIC = Path(__file__).parent / "static"
FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    # One message catalogue per language; the page reads them with fetch (connect-src 'self').
    "messages-id.json": "application/json",
    "messages-en.json": "application/json",
}

router = static_app_router(path="/dashboard", folder=STATIC, files=FILES, what="dashboard")
