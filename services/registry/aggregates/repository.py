"""The two GROUP BY queries behind the dashboard aggregates, scoped to the caller's wilayah."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.domain.flags import FlagStatus
from services.registry.families.models import family, flag, member
from services.registry.families.repository import in_scope
from shared.auth.principal import Principal

GroupBy = Literal["kecamatan", "kelurahan"]


def _group_column(group_by: GroupBy) -> Any:
    return family.c.kecamatan_code if group_by == "kecamatan" else family.c.kelurahan_code


async def family_counts(session: AsyncSession, *, principal: Principal, group_by: GroupBy) -> Sequence[Row[Any]]:
    """Families and living members per (area code, data_status, desil) within scope."""
    grp = _group_column(group_by)
    living = (
        select(member.c.family_id, func.count().label("n"))
        .where(member.c.active, ~member.c.deceased)
        .group_by(member.c.family_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            grp.label("code"),
            family.c.data_status,
            family.c.desil,
            func.count().label("families"),
            func.coalesce(func.sum(living.c.n), 0).label("members"),
        )
        .select_from(family.outerjoin(living, living.c.family_id == family.c.id))
        .where(in_scope(principal))
        .group_by(grp, family.c.data_status, family.c.desil)
    )
    return rows.all()


async def open_flag_counts(session: AsyncSession, *, principal: Principal, group_by: GroupBy) -> Sequence[Row[Any]]:
    """Families with an open flag per (area code, flag kind) within scope."""
    grp = _group_column(group_by)
    rows = await session.execute(
        select(grp.label("code"), flag.c.kind, func.count(func.distinct(flag.c.family_id)).label("n"))
        .select_from(flag.join(family, family.c.id == flag.c.family_id))
        .where(flag.c.status == FlagStatus.OPEN, in_scope(principal))
        .group_by(grp, flag.c.kind)
    )
    return rows.all()
