"""`POST /ops/households/republish`: send the current state of families again (role system, like the other ops
routes); `tepat republish-households` does the same from the command line."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends

from services.registry.families.changes import actor_of
from services.registry.republish.rules import ScopeError, scope_of
from services.registry.republish.schemas import RepublishIn, RepublishOut
from services.registry.republish.service import republish_households
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.auth.scope import ensure_covers
from shared.http.problems import ProblemError
from shared.http.security import require
from shared.runtime.dependencies import RuntimeDep

router = APIRouter(tags=["ops"])
Operator = Annotated[Principal, Depends(require(Permission.OPERATE))]


@router.post(
    "/ops/households/republish",
    response_model=RepublishOut,
    summary="Republish the current household state of families (backfill every consumer's read model)",
)
async def republish(body: RepublishIn, runtime: RuntimeDep, principal: Operator) -> RepublishOut:
    """One `household.republished` event per family of the wilayah (or of the listed ones), at a new version, in
    batches each committed with its history rows and audit entry. Safe to repeat. A whole city is long work for
    one request: `tepat republish-households` runs it without the gateway's time limit."""
    wilayah = body.wilayah or principal.wilayah
    ensure_covers(principal, wilayah, what="republish")
    try:
        scope = scope_of(wilayah, body.family_ids)
    except ScopeError as exc:
        reason = {"field": exc.field, "reason": exc.reason, "message": str(exc)}
        raise ProblemError(422, str(exc), code="validation", errors=[reason]) from exc
    run = await republish_households(runtime.sessions, actor=actor_of(principal), scope=scope, audit=runtime.audit)
    return RepublishOut(**asdict(run))
