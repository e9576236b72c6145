"""Enrolment (kepesertaan) per programme, moved set-based when a tahap is approved."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.payments.events import emit_enrolment
from services.disbursement.payments.models import enrolment
from services.disbursement.tahap_state.models import tahap_list
from services.disbursement.tahap_state.repository import listed_in
from shared.db.dialect import insert_for

e = enrolment.c
tahap_lists = tahap_list.c


async def apply_approved_list(
    session: AsyncSession, *, programme_code: str, tahap_id: str, key: int, generation: int, now: datetime
) -> int:
    """Families on the approved list become active, active ones not on it end (with the list's reason).

    Emits enrolment.changed for every family whose enrolment changed; returns how many."""
    listed = listed_in(key, generation)
    on_list = exists().where(listed, tahap_lists.household_id == e.household_id)
    reason_now = (
        select(tahap_lists.reason)
        .where(
            tahap_lists.tahap_key == key,
            tahap_lists.generation == generation,
            tahap_lists.household_id == e.household_id,
        )
        .scalar_subquery()
    )
    await session.execute(
        update(enrolment)
        .where(e.programme_code == programme_code, e.status == "active", ~on_list)
        .values(
            status="ended",
            reason=func.coalesce(reason_now, "not_in_registry"),
            tahap_id=tahap_id,
            version=e.version + 1,
            updated_at=now,
        )
    )
    cols = ["programme_code", "household_id", "status", "reason", "tahap_id", "version", "updated_at"]
    source = select(
        literal(programme_code),
        tahap_lists.household_id,
        literal("active"),
        literal("newly_eligible"),
        literal(tahap_id),
        literal(1),
        literal(now),
    ).where(listed)
    ins = insert_for(session, enrolment).from_select(cols, source)
    ins = ins.on_conflict_do_update(
        index_elements=["programme_code", "household_id"],
        set_={
            "status": "active",
            "reason": "newly_eligible",
            "tahap_id": tahap_id,
            "version": e.version + 1,
            "updated_at": now,
        },
        where=e.status != "active",
    )
    await session.execute(ins)
    # Rows keep the tahap where their current status began: exactly the ones changed just now carry this tahap.
    return await emit_enrolment(session, e.programme_code == programme_code, e.tahap_id == tahap_id)
