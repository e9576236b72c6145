"""Serves the field app (PWA for TKSK and PSM) at /lapangan/ (services/gateway/static_pages.py sets the CSP)."""

from __future__ import annotations

from pathlib import Path

from services.gateway.static_pages import static_app_router

STATIC = Path(__file__).parent / "static"
FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "store.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    # The service worker sits in /lapangan/, so its scope is the app and nothing else of the gateway.
    "sw.js": "text/javascript; charset=utf-8",
    "manifest.webmanifest": "application/manifest+json",
    "icon.svg": "image/svg+xml",
    "messages-id.json": "application/json",
    "messages-en.json": "application/json",
}

router = static_app_router(path="/lapangan", folder=STATIC, files=FILES, what="field app")
