"""HTTP of the DCI Social Registry API (spec-shaped bodies only) and of the partner administration."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from services.registry.dci import service
from services.registry.dci.schemas import PartnerIn, PartnerOut
from services.registry.domain.identifiers import today_wib
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.auth.tokens import TokenError, TokenVerifier
from shared.events.envelope import utcnow
from shared.http.security import require
from shared.runtime.dependencies import SessionDep

log = logging.getLogger(__name__)
PREFIX = "/dci/social/registry"
router = APIRouter(tags=["dci"])
admin = APIRouter(prefix="/dci/partners", tags=["dci"])


def http_error(exc: service.DciError) -> JSONResponse:
    """The spec's HttpErrorResponse: errors[] of code and message (schema violations listed after the first)."""
    errors = [{"code": exc.code, "message": exc.message}]
    errors += [{"code": exc.code, "message": f"{e['field']}: {e['reason']}"} for e in exc.errors]
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse({"errors": errors}, status_code=exc.status, headers=headers)


def _principal(request: Request) -> Principal:
    # The same OAuth2 token the gateway issued, checked again here (defence in depth), refused in the spec's terms.
    verifier: TokenVerifier | None = getattr(request.app.state, "token_verifier", None)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if verifier is None or scheme.lower() != "bearer" or not token.strip():
        raise service.DciError(401, "err.request.unauthorized", "A bearer token is required.")
    try:
        return verifier.verify(token.strip())
    except TokenError as exc:
        raise service.DciError(401, "err.request.unauthorized", str(exc)) from exc


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise service.DciError(400, "err.request.bad", "The body is not JSON.") from exc


_JSON_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}


async def _answer(request: Request, session: SessionDep, *, action: str, message_schema: str) -> JSONResponse:
    now = utcnow()
    try:
        principal = _principal(request)
        body = await _body(request)
        partner = await service.authenticate(
            session, body=body, action=action, message_schema=message_schema, principal=principal, now=now
        )
        if action == "search":
            answer = await service.sync_search(session, body=body, partner=partner, now=now, today=today_wib())
        else:
            answer = await service.sync_txn_status(session, body=body, partner=partner, now=now)
    except service.DciError as exc:
        return http_error(exc)
    except Exception:
        # These routes answer only in the spec's shapes, also when Tepat itself fails.
        log.exception("DCI %s failed", action)
        return http_error(service.DciError(500, "err.service.unavailable", "The registry could not answer."))
    return JSONResponse(answer)


@router.post(
    f"{PREFIX}/sync/search",
    summary="DCI sync search (Group = family by No. KK, Person = member by NIK)",
    response_model=None,
    openapi_extra=_JSON_BODY,
)
async def sync_search(request: Request, session: SessionDep) -> JSONResponse:
    """Search the register; the body and answer follow the DCI Social Registry API v1.0.0."""
    return await _answer(request, session, action="search", message_schema="SearchRequest")


@router.post(
    f"{PREFIX}/sync/txn/status",
    summary="DCI sync transaction status of earlier searches",
    response_model=None,
    openapi_extra=_JSON_BODY,
)
async def sync_txn_status(request: Request, session: SessionDep) -> JSONResponse:
    """Status of the sender's earlier searches by transaction id, correlation id or reference ids."""
    return await _answer(request, session, action="txn-status", message_schema="TxnStatusRequest")


@admin.post("", status_code=201, summary="Register a DCI partner (or replace its settings)")
async def register_partner(
    partner: PartnerIn, session: SessionDep, _: Principal = Depends(require(Permission.OPERATE))
) -> PartnerOut:
    """Add a partner system: key, callback URIs, query types, wilayah and fields."""
    await service.register_partner(session, partner=partner, now=utcnow())
    row = await service.get_partner(session, sender_id=partner.sender_id)
    return PartnerOut.model_validate(row or {})


@admin.get("", summary="List the DCI partners")
async def list_partners(session: SessionDep, _: Principal = Depends(require(Permission.OPERATE))) -> list[PartnerOut]:
    """Every registered partner."""
    return [PartnerOut.model_validate(r) for r in await service.list_partners(session)]
