"""The set-based statement behind a campaign: one INSERT … SELECT for every family it selects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, String, case, exists, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification.groundchecks.models import OPEN_PREDICATE, OPEN_STATES, ground_check
from services.verification.groundchecks.repository import tksk_of_kecamatan
from services.verification.groundchecks.rules import CheckReason
from services.verification.households.models import household
from shared.db.dialect import insert_on

CHECK_COLUMNS = (
    "household_id",
    "kecamatan_code",
    "kelurahan_code",
    "reason",
    "origin_ref",
    "campaign_id",
    "status",
    "assigned_to",
    "assigned_role",
    "due_at",
    "created_at",
    "updated_at",
)


def campaign_insert(
    *,
    dialect: str,
    campaign_id: int,
    kecamatan_codes: list[str],
    verified_since: datetime | None,
    desil_max: int | None,
    due_at: datetime,
    now: datetime,
    scope_filter: Any | None = None,
) -> Any:
    """INSERT INTO ground_check … SELECT the selected families, each assigned to its kecamatan's TKSK."""
    h = household
    g = ground_check
    reason = CheckReason.REVALIDATION.value
    tksk = tksk_of_kecamatan().subquery("tksk")
    where: list[Any] = [
        h.c.kecamatan_code.in_(kecamatan_codes),
        h.c.data_status == "active",
        ~exists().where(g.c.household_id == h.c.household_id, g.c.reason == reason, g.c.status.in_(OPEN_STATES)),
    ]
    if verified_since is not None:
        where.append(
            ~exists().where(
                g.c.household_id == h.c.household_id, g.c.status == "approved", g.c.decided_at >= verified_since
            )
        )
    if desil_max is not None:
        where.append(h.c.desil <= desil_max)
    if scope_filter is not None:
        where.append(scope_filter)
    assigned = tksk.c.subject.is_not(None)
    selected = (
        select(
            h.c.household_id,
            h.c.kecamatan_code,
            h.c.kelurahan_code,
            literal(reason, String()),
            literal(f"campaign:{campaign_id}", String()),
            literal(campaign_id, BigInteger()),
            case((assigned, "assigned"), else_="open"),
            tksk.c.subject,
            case((assigned, "tksk"), else_=None),
            literal(due_at, DateTime(timezone=True)),
            literal(now, DateTime(timezone=True)),
            literal(now, DateTime(timezone=True)),
        )
        .select_from(h.outerjoin(tksk, tksk.c.kecamatan_code == h.c.kecamatan_code))
        .where(*where)
    )
    return (
        insert_on(dialect == "postgresql", g)
        .from_select(list(CHECK_COLUMNS), selected)
        # A concurrent trigger may open the same (family, reason) check meanwhile: the index decides, quietly.
        .on_conflict_do_nothing(index_elements=["household_id", "reason"], index_where=text(OPEN_PREDICATE))
    )


async def insert_campaign_checks(session: AsyncSession, **kwargs: Any) -> int:
    """Run the campaign's INSERT … SELECT; returns how many checks it opened."""
    result = await session.execute(campaign_insert(dialect=session.bind.dialect.name, **kwargs))
    return int(result.rowcount)  # type: ignore[attr-defined]
