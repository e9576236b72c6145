"""FastAPI dependencies of a service: its runtime and the request's database transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.audit import changes
from shared.audit.chain import audited, recorded_seqs, wrote
from shared.context import request_id_var
from shared.runtime.service import ServiceRuntime


def get_runtime(request: Request) -> ServiceRuntime:
    """The runtime of the service serving this request."""
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed after the endpoint returns, before the response is sent.

    A request whose transaction changed data is written to the service's audit log in the same transaction,
    with the before/after of every change the domain code noted, so no change lands without its audit entry.
    Read-only requests (also POST lookups, which keep identifiers out of URLs) take no audit lock."""
    runtime = get_runtime(request)
    changes.begin()
    async with runtime.sessions() as session, session.begin():
        yield session
        if wrote(session) and not audited(session):
            await _audit_request(runtime, session, request)
        seqs = recorded_seqs(session)
    # Signed only once committed: a checkpoint must never name an entry that was rolled back.
    if seqs is not None:
        await runtime.audit.checkpoint_if_due(runtime.sessions, seqs)


async def _audit_request(runtime: ServiceRuntime, session: AsyncSession, request: Request) -> None:
    principal = getattr(request.state, "principal", None)
    actor = principal.subject if principal else "anonymous"
    role = str(principal.role) if principal else "none"
    route = request.scope.get("route")
    action = f"{request.method} {getattr(route, 'path', request.url.path)}"
    record_id = ",".join(str(v) for v in request.path_params.values()) or None
    request_id = request_id_var.get()
    noted = changes.drain()
    if not noted:
        await runtime.audit.record(
            session,
            actor=actor,
            role=role,
            action=action,
            record_type=runtime.settings.service_name,
            record_id=record_id,
            request_id=request_id,
        )
    for change in noted:
        await runtime.audit.record(
            session,
            actor=actor,
            role=role,
            action=f"{action} ({change.action})",
            record_type=change.record_type,
            record_id=change.record_id,
            before=change.before,
            after=change.after,
            request_id=request_id,
        )


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]
