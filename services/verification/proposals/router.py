"""HTTP API of proposals (usulan) and muskel records."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.verification.attachments.schemas import DocumentRef
from services.verification.proposals import service
from services.verification.proposals.rules import ProposalAction
from services.verification.proposals.schemas import (
    MuskelIn,
    MuskelOut,
    ProposalActionIn,
    ProposalIn,
    ProposalOut,
    ProposalPage,
)
from services.verification.settings import settings_of
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.http.params import MAX_ID, RecordId, TextFilter, WilayahFilter
from shared.http.security import require
from shared.runtime.dependencies import RuntimeDep, SessionDep

router = APIRouter(tags=["proposals"])

Reader = Annotated[Principal, Depends(require(Permission.READ_VERIFICATION))]
Proposer = Annotated[Principal, Depends(require(Permission.PROPOSE))]


@router.post("/proposals", status_code=201, response_model=ProposalOut, summary="Create a draft proposal")
async def create(body: ProposalIn, session: SessionDep, principal: Proposer) -> ProposalOut:
    """A draft usulan for a registered family (household_id) or a new one (kelurahan_code)."""
    return service.to_out(await service.create_proposal(session, principal=principal, body=body))


@router.get("/proposals", response_model=ProposalPage, summary="Proposals in your wilayah")
async def list_proposals(
    session: SessionDep,
    principal: Reader,
    status: TextFilter = None,
    cycle: str | None = Query(default=None, pattern=r"^\d{4}-\d{2}$"),
    kind: TextFilter = None,
    kelurahan_code: WilayahFilter = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=MAX_ID),
) -> ProposalPage:
    """Filter by state, monthly cycle, kind and wilayah."""
    rows, total = await service.list_proposals(
        session,
        principal=principal,
        status=status,
        cycle=cycle,
        kind=kind,
        kelurahan_code=kelurahan_code,
        limit=limit,
        offset=offset,
    )
    return ProposalPage(total=total, items=[service.to_out(r) for r in rows])


@router.get("/proposals/counts", response_model=dict[str, int], summary="Proposals by state")
async def counts(
    session: SessionDep, principal: Reader, cycle: str | None = Query(default=None, pattern=r"^\d{4}-\d{2}$")
) -> dict[str, int]:
    """How many proposals are in each state, within the caller's scope."""
    return await service.status_counts(session, principal=principal, cycle=cycle)


@router.get("/proposals/{proposal_id}", response_model=ProposalOut, summary="One proposal")
async def get(proposal_id: RecordId, session: SessionDep, principal: Reader) -> ProposalOut:
    """A proposal in the caller's scope, with the actions its state allows."""
    return service.to_out(await service.load_proposal(session, principal=principal, proposal_id=proposal_id))


@router.post("/proposals/{proposal_id}/actions/{action}", response_model=ProposalOut, summary="Move a proposal")
async def act(
    proposal_id: RecordId,
    action: ProposalAction,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Reader,
    body: ProposalActionIn | None = None,
) -> ProposalOut:
    """submit, discuss (muskel_id), muskel_approve, muskel_reject (reason_code), enter, start_review,
    return (comment), complete. An action the current state does not allow is a 409 naming the allowed ones."""
    settings = settings_of(runtime)
    row = await service.act(
        session,
        principal=principal,
        settings=settings,
        proposal_id=proposal_id,
        action=action,
        body=body or ProposalActionIn(),
    )
    return service.to_out(row)


@router.post("/muskel", status_code=201, response_model=MuskelOut, summary="Record a kelurahan deliberation")
async def create_muskel(body: MuskelIn, session: SessionDep, principal: Proposer) -> MuskelOut:
    """A muskel of one kelurahan; attach its signed minutes and by-name-by-address list afterwards."""
    return await service.record_muskel(session, principal=principal, body=body)


@router.get("/muskel/{muskel_id}", response_model=MuskelOut, summary="One muskel record")
async def get_muskel(muskel_id: RecordId, session: SessionDep, principal: Reader) -> MuskelOut:
    """A muskel in the caller's scope, with its documents."""
    return await service.muskel_out(session, principal=principal, muskel_id=muskel_id)


@router.post("/muskel/{muskel_id}/attachments", response_model=MuskelOut, summary="Attach minutes or list")
async def attach(muskel_id: RecordId, body: DocumentRef, session: SessionDep, principal: Proposer) -> MuskelOut:
    """Attach a document reference (sha256, size, media type); the file itself lives elsewhere."""
    return await service.attach_to_muskel(session, principal=principal, muskel_id=muskel_id, ref=body)
