"""The auditors' view of a service's audit log, and its chain verification."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from shared.audit.chain import AuditLog
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.http.params import MAX_ID, PRINTABLE
from shared.http.security import require

Auditor = Annotated[Principal, Depends(require(Permission.READ_AUDIT))]


class AuditEntry(BaseModel):
    """One audit log entry."""

    seq: int
    at: datetime
    actor: str
    role: str
    action: str
    record_type: str
    record_id: str | None
    purpose: str | None
    before: str | None
    after: str | None
    request_id: str | None
    hash: str


class AuditPage(BaseModel):
    """A page of entries, oldest first, and where the next page starts."""

    entries: list[AuditEntry]
    next_after_seq: int | None


class ChainReport(BaseModel):
    """Result of walking the chain."""

    checked: int
    intact: bool
    broken_at_seq: int | None = None
    reason: str | None = None
    anchored_seq: int | None = None
    unanchored: int = 0


def audit_router(audit: AuditLog) -> APIRouter:
    """GET /audit (filters, paging by sequence) and GET /audit/verify, for auditors only."""
    router = APIRouter(prefix="/audit", tags=["audit"])
    t = audit.table

    @router.get("", summary="Read the audit log (auditors)")
    async def list_entries(
        request: Request,
        _: Auditor,
        after_seq: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        actor: Annotated[str | None, Query(pattern=PRINTABLE, max_length=200)] = None,
        record_id: Annotated[str | None, Query(pattern=PRINTABLE, max_length=200)] = None,
    ) -> AuditPage:
        stmt = select(t).where(t.c.seq > after_seq).order_by(t.c.seq).limit(limit)
        if actor:
            stmt = stmt.where(t.c.actor == actor)
        if record_id:
            stmt = stmt.where(t.c.record_id == record_id)
        async with request.app.state.runtime.sessions() as session:
            rows = (await session.execute(stmt)).all()
        entries = [AuditEntry.model_validate(dict(r._mapping)) for r in rows]
        return AuditPage(entries=entries, next_after_seq=entries[-1].seq if len(entries) == limit else None)

    @router.get("/verify", summary="Verify the hash chain against the signed checkpoints (auditors)")
    async def verify(request: Request, _: Auditor) -> ChainReport:
        runtime = request.app.state.runtime
        # The runtime's log knows the service's checkpoints; the bare one only the chain.
        log: AuditLog = getattr(runtime, "audit", audit)
        async with runtime.sessions() as session:
            status = await log.status(session)
        broken = status.broken
        return ChainReport(
            checked=status.checked,
            intact=broken is None,
            broken_at_seq=broken.seq if broken else None,
            reason=broken.reason if broken else None,
            anchored_seq=status.anchored_seq,
            unanchored=status.unanchored,
        )

    return router
