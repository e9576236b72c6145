"""Flag queries of the flags feature: the list and the export of flags in the caller's wilayah."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from services.registry.families.models import family, flag
from services.registry.flags.schemas import FlagFilter
from shared.auth.principal import Principal
from shared.db.expressions import within


def flags_query(principal: Principal, filters: FlagFilter, *, before: int | None = None) -> Select[Any]:
    """Flags of families in the caller's wilayah matching the filters, with the family's kelurahan, newest first
    (ids below `before`, the list's cursor): the list pages it, the export streams it."""
    stmt = (
        select(flag, family.c.kelurahan_code)
        .join(family, family.c.id == flag.c.family_id)
        .where(within(family.c.kelurahan_code, principal.wilayah))
    )
    if filters.status is not None:
        stmt = stmt.where(flag.c.status == filters.status)
    if filters.kind is not None:
        stmt = stmt.where(flag.c.kind == filters.kind)
    if filters.family_id:
        stmt = stmt.where(flag.c.family_id == filters.family_id)
    if filters.kecamatan:
        stmt = stmt.where(family.c.kecamatan_code == filters.kecamatan)
    if filters.kelurahan:
        stmt = stmt.where(family.c.kelurahan_code == filters.kelurahan)
    if before is not None:
        stmt = stmt.where(flag.c.id < before)
    return stmt.order_by(flag.c.id.desc())


async def list_flags(
    session: AsyncSession, *, principal: Principal, filters: FlagFilter, cursor: int | None, limit: int
) -> list[dict[str, Any]]:
    """Up to limit + 1 flags (the extra row tells whether more follow); `cursor` is the id of the last flag of the
    previous page."""
    rows = await session.execute(flags_query(principal, filters, before=cursor).limit(limit + 1))
    return [dict(r) for r in rows.mappings()]
