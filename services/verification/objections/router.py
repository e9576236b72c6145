"""HTTP API of objections (sanggah) and the ops hook of the lapse job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from services.verification import idempotency
from services.verification.objections import service
from services.verification.objections.schemas import (
    DecisionIn,
    LapseResult,
    ObjectionIn,
    ObjectionOut,
    ObjectionPage,
)
from services.verification.settings import settings_of
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.http.idempotency import IdempotencyKey
from shared.http.params import MAX_ID, RecordId, TextFilter
from shared.http.security import require
from shared.runtime.dependencies import RuntimeDep, SessionDep

router = APIRouter(tags=["objections"])

Reader = Annotated[Principal, Depends(require(Permission.READ_VERIFICATION))]
Recorder = Annotated[Principal, Depends(require(Permission.RECORD_OBJECTION))]
Decider = Annotated[Principal, Depends(require(Permission.DECIDE_OBJECTION))]
Operator = Annotated[Principal, Depends(require(Permission.OPERATE))]


@router.post("/objections", status_code=201, response_model=ObjectionOut, summary="Record an objection")
async def receive(
    body: ObjectionIn,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Recorder,
    idempotency_key: IdempotencyKey = None,
) -> ObjectionOut | JSONResponse:
    """A resident of the same kelurahan objects; photo and GPS required; due in 14 days (setting). With an
    Idempotency-Key, the same sanggah sent again returns the first answer instead of a second record."""

    async def create() -> ObjectionOut:
        return service.to_out(
            await service.receive(session, principal=principal, settings=settings_of(runtime), body=body)
        )

    return await idempotency.once(
        session,
        principal=principal,
        key=idempotency_key,
        endpoint="POST /objections",
        body=body,
        status_code=201,
        create=create,
    )


@router.get("/objections", response_model=ObjectionPage, summary="Objections in your wilayah")
async def list_objections(
    session: SessionDep,
    principal: Reader,
    status: TextFilter = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=MAX_ID),
) -> ObjectionPage:
    """Oldest due first."""
    rows, total = await service.list_objections(session, principal=principal, status=status, limit=limit, offset=offset)
    return ObjectionPage(total=total, items=[service.to_out(r) for r in rows])


@router.get("/objections/{objection_id}", response_model=ObjectionOut, summary="One objection")
async def get(objection_id: RecordId, session: SessionDep, principal: Reader) -> ObjectionOut:
    """An objection in the caller's scope."""
    return service.to_out(await service.load_objection(session, principal=principal, objection_id=objection_id))


@router.post("/objections/{objection_id}/decision", response_model=ObjectionOut, summary="Uphold or reject")
async def decide(
    objection_id: RecordId, body: DecisionIn, session: SessionDep, runtime: RuntimeDep, principal: Decider
) -> ObjectionOut:
    """Upheld creates a removal proposal; the result goes out as objection.upheld / objection.rejected."""
    row = await service.decide(
        session,
        outbox=runtime.outbox,
        principal=principal,
        settings=settings_of(runtime),
        objection_id=objection_id,
        body=body,
    )
    return service.to_out(row)


@router.post("/ops/objections/lapse", response_model=LapseResult, tags=["ops"], summary="Lapse overdue objections")
async def lapse(session: SessionDep, runtime: RuntimeDep, principal: Operator) -> LapseResult:
    """Run the lapse job now (safe to run any number of times; schedule it daily)."""
    return LapseResult(lapsed=await service.lapse_overdue(session, outbox=runtime.outbox))
