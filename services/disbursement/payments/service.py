"""Payment line use cases: move a line, advance a tahap's lines, decide on held lines."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.payments import repository as repo
from services.disbursement.payments.events import emit_line_status
from services.disbursement.payments.models import payment_line
from services.disbursement.payments.rules import MANUAL, can_move, failure_reason_required
from services.disbursement.payments.schemas import AdvanceIn, AdvanceOut, LineOut, TransitionIn
from services.disbursement.scope import within_scope
from services.disbursement.tahap_state.service import require_tahap, start_paying
from shared.auth.principal import Principal
from shared.events.envelope import utcnow
from shared.events.payment import PaymentLineStatusCode as S
from shared.http.problems import ProblemError

payment_lines = payment_line.c
_PAYING = {"approved", "paying"}


def line_out(row: RowMapping) -> LineOut:
    """Response body of a line row."""
    return LineOut.model_validate(dict(row))


def lines_export_query(*, tahap_id: str, principal: Principal, status: str | None) -> Select[Any]:
    """Every line of a tahap in the caller's scope (optionally in one status), by line id, for an export."""
    scope = within_scope(payment_lines.kelurahan_code, principal)
    return repo.lines_query(tahap_id=tahap_id, scope=scope, status=status)


async def list_lines(
    session: AsyncSession, *, tahap_id: str, principal: Principal, status: str | None, limit: int, offset: int
) -> list[LineOut]:
    """A page of a tahap's lines in the caller's scope; 404 for an unknown tahap."""
    await require_tahap(session, tahap_id)
    scope = within_scope(payment_lines.kelurahan_code, principal)
    rows = await repo.list_lines(session, tahap_id=tahap_id, scope=scope, status=status, limit=limit, offset=offset)
    return [line_out(r) for r in rows]


async def require_line(session: AsyncSession, line_id: int, principal: Principal) -> RowMapping:
    """The line if it exists in the caller's scope, else 404."""
    row = await repo.get_line(session, line_id)
    if row is None or not principal.covers(row["kelurahan_code"]):
        raise ProblemError(404, f"Payment line {line_id} not found in your wilayah.", code="not_found")
    return row


def _conflict(row: RowMapping, target: str) -> ProblemError:
    return ProblemError(
        409,
        f"Cannot move a payment line from {row['status']} to {target}.",
        code="invalid_transition",
        current_status=row["status"],
    )


async def _ensure_paying(session: AsyncSession, tahap_id: str) -> None:
    tahap = await require_tahap(session, tahap_id)
    if tahap["status"] not in _PAYING:
        raise ProblemError(
            409,
            f"Tahap is {tahap['status']}: lines move only once it is approved.",
            code="invalid_state",
            current_status=tahap["status"],
        )
    if tahap["status"] == "approved":
        await start_paying(session, tahap_id=tahap_id)


async def transition(session: AsyncSession, *, line_id: int, body: TransitionIn, principal: Principal) -> LineOut:
    """Move one line along its state machine (guarded: 409 when not allowed or moved meanwhile)."""
    row = await require_line(session, line_id, principal)
    target = body.status
    if target not in MANUAL or not can_move(S(row["status"]), target):
        raise _conflict(row, target.value)
    if failure_reason_required(target, body.failure_reason):
        raise ProblemError(
            422,
            "failure_reason is required for failed, and only for failed.",
            code="validation",
            errors=[{"field": "failure_reason", "reason": "required iff status is failed"}],
        )
    await _ensure_paying(session, row["tahap_id"])
    now = utcnow()
    day = body.on or now.date()
    values: dict[str, object] = {"status": target.value, "updated_at": now}
    if target == S.PAID:
        values.update(
            paid_amount=body.amount if body.amount is not None else row["amount"],
            paid_on=day,
            payer_reference=body.reference,
        )
    elif target == S.FAILED:
        values["failure_reason"] = body.failure_reason.value if body.failure_reason else None
    elif target == S.RETURNED:
        amount = body.amount if body.amount is not None else row["amount"]
        if amount > row["amount"]:
            raise ProblemError(
                422,
                "A return cannot exceed the line's amount.",
                code="validation",
                errors=[{"field": "amount", "reason": "exceeds the line amount"}],
            )
        values.update(returned_amount=amount, returned_on=day)
    elif target in {S.DISPUTED, S.RECOVERED}:
        values.update(decided_by=principal.subject, decision_reason=body.reason)
    updated = await repo.guarded_line_update(session, line_id, row["status"], values)
    if updated is None:
        raise _conflict(await require_line(session, line_id, principal), target.value)
    await emit_line_status(session, payment_lines.line_id == line_id)
    return line_out(updated)


async def advance(session: AsyncSession, *, tahap_id: str, body: AdvanceIn) -> AdvanceOut:
    """Move all lines of a tahap from one status to the next in one UPDATE (city programmes: planned → spm …)."""
    if body.to_status not in {S.SPM, S.SP2D, S.AT_PAYER} or not can_move(body.from_status, body.to_status):
        raise ProblemError(
            409,
            f"Lines cannot be advanced from {body.from_status} to {body.to_status} in bulk.",
            code="invalid_transition",
        )
    await _ensure_paying(session, tahap_id)
    now = utcnow()
    moved = await repo.advance_lines(session, tahap_id, body.from_status.value, body.to_status.value, now)
    if moved:
        # The lines just moved are the ones in the target status stamped with this transaction's time.
        await emit_line_status(
            session,
            payment_lines.tahap_id == tahap_id,
            payment_lines.status == body.to_status.value,
            payment_lines.updated_at == now,
        )
    return AdvanceOut(
        tahap_id=tahap_id, from_status=body.from_status.value, to_status=body.to_status.value, moved=moved
    )


async def decide_hold(
    session: AsyncSession, *, line_id: int, release: bool, reason: str, principal: Principal
) -> LineOut:
    """Release a held line back to where it was, or cancel it; who and why are kept on the line."""
    row = await require_line(session, line_id, principal)
    if row["status"] != S.ON_HOLD:
        raise _conflict(row, "released" if release else S.CANCELLED.value)
    target = row["held_from"] if release else S.CANCELLED.value
    values = {
        "status": target,
        "held_from": None,
        "decided_by": principal.subject,
        "decision_reason": reason,
        "updated_at": utcnow(),
    }
    if release:
        values["hold_reason"] = None
    updated = await repo.guarded_line_update(session, line_id, S.ON_HOLD.value, values)
    if updated is None:
        raise _conflict(await require_line(session, line_id, principal), str(target))
    await emit_line_status(session, payment_lines.line_id == line_id)
    return line_out(updated)
