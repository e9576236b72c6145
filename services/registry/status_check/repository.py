"""The query of the status-check lookup."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.families.models import family, member

MAX_MATCHES = 5


async def families_named(session: AsyncSession, *, name: str, kelurahan_code: str | None, nik: str | None) -> list[str]:
    """Active families with an active member of this name (case-insensitive) in the kelurahan, or holding the NIK."""
    f, m = family.c, member.c
    query = (
        select(f.id)
        .distinct()
        .join(member, m.family_id == f.id)
        .where(m.active.is_(True), func.lower(m.name) == name.lower(), f.data_status != "inactive")
        .order_by(f.id)
        .limit(MAX_MATCHES)
    )
    query = query.where(f.kelurahan_code == kelurahan_code) if kelurahan_code is not None else query.where(m.nik == nik)
    return [str(r) for r in (await session.execute(query)).scalars()]
