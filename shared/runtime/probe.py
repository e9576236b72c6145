"""The pipeline canary: a probe event any service can emit and every service records on receipt.

Ops use it to see that outbox → relay → bus → consumer works end to end and how long it takes; the
fault tests and the benchmark use the same path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.db.dialect import is_pg, unnest_insert
from shared.db.messaging import MessagingTables
from shared.events.envelope import EventEnvelope, utcnow
from shared.events.topics import PROBE
from shared.http.security import require
from shared.inbox.consumer import BatchHandler
from shared.outbox.writer import OutboxWriter

PROBE_EVENT = "probe.ping"
Operator = Annotated[Principal, Depends(require(Permission.OPERATE))]


class ProbeData(BaseModel):
    """Payload of a probe event."""

    sequence: int = Field(ge=0)


async def emit_probes(session: AsyncSession, outbox: OutboxWriter, *, count: int, start: int = 0) -> None:
    """Write `count` probe events into the outbox (in the caller's transaction)."""
    for seq in range(start, start + count):
        await outbox.add(
            session,
            topic=PROBE,
            event_type=PROBE_EVENT,
            subject=f"probe-{seq}",
            aggregate_version=seq,
            data=ProbeData(sequence=seq),
        )


def probe_handler(table: Table) -> BatchHandler:
    """A consumer handler that records each probe it applies (one INSERT per run of probes)."""

    async def on_probes(session: AsyncSession, envelopes: Sequence[EventEnvelope]) -> None:
        now = utcnow()
        rows = [
            {
                "event_id": str(e.event_id),
                "source": e.source,
                "sequence": ProbeData.model_validate(e.data).sequence,
                "occurred_at": e.occurred_at,
                "received_at": now,
            }
            for e in envelopes
        ]
        if is_pg(session):
            types = {"event_id": "text", "source": "text", "sequence": "bigint"}
            types |= {"occurred_at": "timestamptz", "received_at": "timestamptz"}
            stmt, params = unnest_insert(table, types, rows)
            await session.execute(stmt, params)
        else:
            await session.execute(table.insert(), rows)

    return BatchHandler(on_probes)


class ProbeSummary(BaseModel):
    """How many probes this service has received, and the newest."""

    received: int
    last_received_at: str | None


def probe_router(messaging: MessagingTables) -> APIRouter:
    """POST /ops/probe emits probes; GET /ops/probe tells what this service received."""
    router = APIRouter(prefix="/ops", tags=["ops"])

    @router.post("/probe", status_code=202, summary="Emit probe events through the pipeline")
    async def post_probe(
        request: Request,
        _: Operator,
        count: Annotated[int, Query(ge=1, le=1000)] = 1,
    ) -> dict[str, int]:
        runtime = request.app.state.runtime
        async with runtime.sessions() as session, session.begin():
            await emit_probes(session, runtime.outbox, count=count)
        return {"emitted": count}

    @router.get("/probe", summary="Probe events received by this service")
    async def get_probe(request: Request, _: Operator) -> ProbeSummary:
        t = messaging.probe_receipt
        async with request.app.state.runtime.sessions() as session:
            count, last = (await session.execute(select(func.count(), func.max(t.c.received_at)))).one()
        return ProbeSummary(received=count, last_received_at=str(last) if last else None)

    return router
