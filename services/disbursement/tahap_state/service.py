"""A tahap's status moves: the 404 of an unknown tahap and the guarded transition every use case goes through."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.tahap_state import repository as repo
from services.disbursement.tahap_state.rules import allowed_from, target_of
from shared.events.envelope import utcnow
from shared.http.problems import ProblemError


async def require_tahap(session: AsyncSession, tahap_id: str) -> RowMapping:
    """The tahap, or 404."""
    row = await repo.get_tahap(session, tahap_id)
    if row is None:
        raise ProblemError(404, f"Tahap {tahap_id} does not exist.", code="not_found")
    return row


async def transition(session: AsyncSession, tahap_id: str, action: str, values: dict[str, Any]) -> RowMapping:
    """Run `action` of the state machine on the tahap (with `values`), or 409 naming the states it may run from."""
    allowed = frozenset(s.value for s in allowed_from(action))
    row = await repo.guarded_update(
        session, tahap_id, allowed, {"status": target_of(action).value, "updated_at": utcnow(), **values}
    )
    if row is None:
        current = await require_tahap(session, tahap_id)
        raise ProblemError(
            409,
            f"Cannot {action.replace('_', ' ')} a tahap that is {current['status']}.",
            code="invalid_state",
            current_status=current["status"],
            allowed_from=sorted(allowed),
        )
    return row


async def start_paying(session: AsyncSession, *, tahap_id: str) -> RowMapping:
    """approved → paying (idempotent once paying)."""
    return await transition(session, tahap_id, "start_paying", {})
