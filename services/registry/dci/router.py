"""HTTP of the DCI Social Registry API (spec-shaped bodies only) and of the partner administration."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from services.registry.dci import async_requests, service
from services.registry.dci.schemas import CallbackOut, PartnerIn, PartnerOut
from services.registry.domain.identifiers import today_wib
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.auth.tokens import TokenError, VerifiedTokens
from shared.events.envelope import utcnow
from shared.http.problems import ProblemError
from shared.http.security import require
from shared.runtime.dependencies import SessionDep

log = logging.getLogger(__name__)
PREFIX = "/dci/social/registry"
router = APIRouter(tags=["dci"])
admin = APIRouter(prefix="/dci/partners", tags=["dci"])
callbacks = APIRouter(prefix="/dci/callbacks", tags=["dci"])


def http_error(exc: service.DciError) -> JSONResponse:
    """The spec's HttpErrorResponse: errors[] of code and message (schema violations listed after the first)."""
    errors = [{"code": exc.code, "message": exc.message}]
    errors += [{"code": exc.code, "message": f"{e['field']}: {e['reason']}"} for e in exc.errors]
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse({"errors": errors}, status_code=exc.status, headers=headers)


def _principal(request: Request) -> Principal:
    # The same OAuth2 token the gateway issued, checked again here (defence in depth), refused in the spec's terms.
    verifier: VerifiedTokens | None = getattr(request.app.state, "token_verifier", None)
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


# (session, body, partner row, now) -> the answer; the session and row types stay with the service layer.
Answer = Callable[[Any, dict[str, Any], Any, datetime], Awaitable[dict[str, Any]]]


async def _sync_search(session: Any, body: dict[str, Any], partner: Any, now: datetime) -> Any:
    return await service.sync_search(session, body=body, partner=partner, now=now, today=today_wib())


async def _sync_status(session: Any, body: dict[str, Any], partner: Any, now: datetime) -> Any:
    return await service.sync_txn_status(session, body=body, partner=partner, now=now)


def _keywords(run: Callable[..., Awaitable[dict[str, Any]]]) -> Answer:
    async def call(session: Any, body: dict[str, Any], partner: Any, now: datetime) -> dict[str, Any]:
        return await run(session, body=body, partner=partner, now=now)

    return call


async def _answer(
    request: Request, session: SessionDep, *, action: str, message_schema: str, answer_with: Answer
) -> JSONResponse:
    now = utcnow()
    try:
        principal = _principal(request)
        body = await _body(request)
        partner = await service.authenticate(
            session, body=body, action=action, message_schema=message_schema, principal=principal, now=now
        )
        answer = await answer_with(session, body, partner, now)
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
    return await _answer(request, session, action="search", message_schema="SearchRequest", answer_with=_sync_search)


@router.post(
    f"{PREFIX}/sync/txn/status",
    summary="DCI sync transaction status of earlier searches",
    response_model=None,
    openapi_extra=_JSON_BODY,
)
async def sync_txn_status(request: Request, session: SessionDep) -> JSONResponse:
    """Status of the sender's earlier searches by transaction id, correlation id or reference ids."""
    return await _answer(
        request, session, action="txn-status", message_schema="TxnStatusRequest", answer_with=_sync_status
    )


@router.post(
    f"{PREFIX}/search",
    summary="DCI async search (ACK now, on-search to the callback URI)",
    response_model=None,
    openapi_extra=_JSON_BODY,
)
async def search(request: Request, session: SessionDep) -> JSONResponse:
    """Accept a search; the answer is delivered as on-search to the sender's registered callback URI."""
    return await _answer(
        request,
        session,
        action="search",
        message_schema="SearchRequest",
        answer_with=_keywords(async_requests.accept_search),
    )


@router.post(
    f"{PREFIX}/txn/status",
    summary="DCI async transaction status (ACK now, txn-on-status callback)",
    response_model=None,
    openapi_extra=_JSON_BODY,
)
async def txn_status(request: Request, session: SessionDep) -> JSONResponse:
    """Status of earlier searches, delivered as txn-on-status to the callback URI."""
    return await _answer(
        request,
        session,
        action="txn-status",
        message_schema="TxnStatusRequest",
        answer_with=_keywords(async_requests.accept_txn_status),
    )


@router.post(
    f"{PREFIX}/subscribe",
    summary="DCI subscribe to changes of families (on-subscribe callback)",
    response_model=None,
    openapi_extra=_JSON_BODY,
)
async def subscribe(request: Request, session: SessionDep) -> JSONResponse:
    """Subscribe to changes of the families a filter selects; notify callbacks follow every change."""
    return await _answer(
        request,
        session,
        action="subscribe",
        message_schema="SubscribeRequest",
        answer_with=_keywords(async_requests.subscribe),
    )


@router.post(
    f"{PREFIX}/unsubscribe",
    summary="DCI unsubscribe (on-unsubscribe callback)",
    response_model=None,
    openapi_extra=_JSON_BODY,
)
async def unsubscribe(request: Request, session: SessionDep) -> JSONResponse:
    """End subscriptions by code."""
    return await _answer(
        request,
        session,
        action="unsubscribe",
        message_schema="UnSubscribeRequest",
        answer_with=_keywords(async_requests.unsubscribe),
    )


@callbacks.get("", summary="List DCI callbacks (e.g. the dead ones)")
async def list_callbacks(
    session: SessionDep,
    _: Principal = Depends(require(Permission.OPERATE)),
    status: Literal["queued", "delivering", "delivered", "dead"] | None = None,
    sender_id: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> list[CallbackOut]:
    """Callbacks to partners, newest first: status, attempts, last error."""
    rows = await service.list_callbacks(session, status=status, sender_id=sender_id, limit=limit)
    return [CallbackOut.model_validate(r) for r in rows]


@callbacks.post("/{callback_id}/retry", summary="Queue a dead DCI callback again")
async def retry_callback(
    callback_id: int, session: SessionDep, _: Principal = Depends(require(Permission.OPERATE))
) -> dict[str, int]:
    """A dead callback gets a fresh set of attempts (404 when there is no dead callback of this id)."""
    retried = await service.retry_dead_callbacks(session, ids=[callback_id], now=utcnow())
    if not retried:
        raise ProblemError(404, "No dead callback", code="dci_callback.not_dead", callback_id=callback_id)
    return {"retried": retried}


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
