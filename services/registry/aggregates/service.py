"""Dashboard aggregates: the counts of the repository folded into one entry per kecamatan or kelurahan."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.aggregates import repository
from services.registry.aggregates.repository import GroupBy
from services.registry.aggregates.schemas import Aggregates, GroupAggregate
from services.registry.domain.wilayah import default_wilayah
from shared.auth.principal import Principal


async def family_aggregates(session: AsyncSession, *, principal: Principal, group_by: GroupBy) -> Aggregates:
    """Family, member, desil, data-status and open-flag counts per area within the caller's wilayah."""
    groups: dict[str, GroupAggregate] = {}
    ref = default_wilayah()

    def group(code: str) -> GroupAggregate:
        if code not in groups:
            area = ref.find(code)
            groups[code] = GroupAggregate(code=code, name=area.name if area else None)
        return groups[code]

    for r in await repository.family_counts(session, principal=principal, group_by=group_by):
        g = group(r.code)
        g.families += int(r.families)
        g.members += int(r.members)
        g.by_data_status[r.data_status] = g.by_data_status.get(r.data_status, 0) + int(r.families)
        key = str(r.desil) if r.desil is not None else "none"
        g.by_desil[key] = g.by_desil.get(key, 0) + int(r.families)
    for r in await repository.open_flag_counts(session, principal=principal, group_by=group_by):
        group(r.code).open_flags[r.kind] = int(r.n)
    return Aggregates(group_by=group_by, groups=[groups[c] for c in sorted(groups)])
