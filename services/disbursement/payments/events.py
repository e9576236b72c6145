"""Events of disbursement.payment.v1 written set-based: one outbox row per line (or enrolment) selected."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.database import OUTBOX
from services.disbursement.payments.models import enrolment, payment_line
from services.disbursement.tahap_state.models import tahap
from shared.context import current_correlation_id
from shared.db.dialect import as_text, is_pg, json_text, numbered_uuids
from shared.events.envelope import utcnow
from shared.events.payment import PaymentEventType
from shared.events.topics import DISBURSEMENT_PAYMENT

payment_lines = payment_line.c


def _head(pg: bool, event_type: str) -> list[ColumnElement[Any]]:
    return [
        numbered_uuids(pg).label("event_id"),
        literal(DISBURSEMENT_PAYMENT).label("topic"),
        literal(event_type).label("event_type"),
        literal(1).label("schema_version"),
    ]


async def emit_line_status(session: AsyncSession, *where: ColumnElement[bool], causation_id: str | None = None) -> int:
    """One payment.line_status_changed per line matching `where`, carrying its current status (PII-free)."""
    pg = is_pg(session)
    now = utcnow()
    query = select(
        *_head(pg, PaymentEventType.LINE_STATUS_CHANGED.value),
        payment_lines.household_id.label("subject"),
        payment_lines.version.label("aggregate_version"),
        literal(now).label("occurred_at"),
        literal(now).label("recorded_at"),
        literal(current_correlation_id()).label("correlation_id"),
        literal(causation_id).label("causation_id"),
        json_text(
            pg,
            *(
                "household_id",
                payment_lines.household_id,
                "programme_code",
                payment_lines.programme_code,
                "tahap_id",
                payment_lines.tahap_id,
            ),
            # The tahap's label ("2026-I"), what a family's notification names (the id means nothing to them).
            "tahap_label",
            select(tahap.c.label).where(tahap.c.id == payment_lines.tahap_id).scalar_subquery(),
            *(
                "line_id",
                as_text(payment_lines.line_id),
                "status",
                payment_lines.status,
                "failure_reason",
                payment_lines.failure_reason,
            ),
        ).label("data"),
    ).where(*where)
    return await OUTBOX.add_selected(session, query)


async def emit_enrolment(session: AsyncSession, *where: ColumnElement[bool]) -> int:
    """One enrolment.changed per enrolment row matching `where`, carrying its current status and reason."""
    pg = is_pg(session)
    now = utcnow()
    e = enrolment.c
    query = select(
        *_head(pg, PaymentEventType.ENROLMENT_CHANGED.value),
        e.household_id.label("subject"),
        e.version.label("aggregate_version"),
        literal(now).label("occurred_at"),
        literal(now).label("recorded_at"),
        literal(current_correlation_id()).label("correlation_id"),
        literal(None).label("causation_id"),
        json_text(
            pg,
            *("household_id", e.household_id, "programme_code", e.programme_code, "tahap_id", e.tahap_id),
            *("status", e.status, "reason", e.reason),
        ).label("data"),
    ).where(*where)
    return await OUTBOX.add_selected(session, query)
