"""Queries of a tahap's own row and of who is listed in its frozen lists."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, select, true, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.tahap_state.models import tahap, tahap_list


async def get_tahap(session: AsyncSession, tahap_id: str) -> RowMapping | None:
    """One tahap."""
    return (await session.execute(select(tahap).where(tahap.c.id == tahap_id))).mappings().first()


async def guarded_update(
    session: AsyncSession, tahap_id: str, allowed: frozenset[str], values: dict[str, Any]
) -> RowMapping | None:
    """UPDATE … WHERE status IN allowed; returns the new row, or None if the tahap was not in an allowed state.

    On PostgreSQL the row lock also serialises concurrent calls: the second re-reads the row after the first commits.
    """
    stmt = (
        update(tahap)
        .where(tahap.c.id == tahap_id, tahap.c.status.in_(sorted(allowed)))
        .values(values)
        .returning(*tahap.c)
    )
    return (await session.execute(stmt)).mappings().first()


def listed_in(key: int, generation: int, alias: Any = None) -> ColumnElement[bool]:
    """The listed families of one generation of a tahap's list (`alias`: of tahap_list)."""
    c = (alias if alias is not None else tahap_list).c
    # Listed families are ranked ones: the redundant condition lets PostgreSQL use the partial index of ranks.
    return and_(c.tahap_key == key, c.generation == generation, c.listed == true(), c.list_rank.is_not(None))
