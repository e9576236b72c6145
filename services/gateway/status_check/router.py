"""Cek Bansos: the public page at /cek-bansos/ and its endpoint POST /cek-bansos/status (no token)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request

from services.gateway.static_pages import static_app_router
from services.gateway.status_check.checker import StatusChecker
from shared.status_check import StatusAnswer, StatusQuery

STATIC = Path(__file__).parent / "static"
FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}


def status_check_router(checker: StatusChecker) -> APIRouter:
    """The page and the endpoint; the services are reached through `app.state.status_upstreams`."""
    router = static_app_router(path="/cek-bansos", folder=STATIC, files=FILES, what="status check")

    @router.post(
        "/cek-bansos/status",
        response_model=StatusAnswer,
        include_in_schema=True,
        tags=["status check"],
        summary="Public status check (Cek Bansos)",
    )
    async def status(query: StatusQuery, request: Request) -> StatusAnswer:
        """Name with kelurahan or NIK → the programmes whose current tahap lists the family and the payment status.
        No token; a few lookups per address per minute; an unknown person gets the same empty answer, no sooner."""
        checker.admit(request.client.host if request.client else "unknown")
        upstreams = request.app.state.status_upstreams
        return await checker.answer(query, upstreams["registry"], upstreams["disbursement"])

    return router
