"""Aggregates for dashboards: counts per kecamatan or kelurahan, scope-aware, two GROUP BY queries."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from services.registry.families.models import family, member
from services.registry.families.repository import in_scope
from services.registry.flags.models import flag
from services.registry.flags.rules import FlagStatus
from services.registry.wilayah.reference import default_wilayah
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.http.security import require
from shared.runtime.dependencies import SessionDep

router = APIRouter(tags=["aggregates"])


class GroupAggregate(BaseModel):
    """Counts of one kecamatan or kelurahan (no personal data)."""

    code: str
    name: str | None
    families: int = 0
    members: int = 0
    by_data_status: dict[str, int] = Field(default_factory=dict)
    by_desil: dict[str, int] = Field(default_factory=dict, description="'none' for families without a desil")
    open_flags: dict[str, int] = Field(default_factory=dict, description="Families with an open flag of each kind")


class Aggregates(BaseModel):
    """Aggregates within the caller's wilayah."""

    group_by: str
    groups: list[GroupAggregate]


@router.get("/aggregates/families", response_model=Aggregates, summary="Family counts per kecamatan or kelurahan")
async def family_aggregates(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(Permission.READ_AGGREGATES))],
    group_by: Literal["kecamatan", "kelurahan"] = "kecamatan",
) -> Aggregates:
    grp = family.c.kecamatan_code if group_by == "kecamatan" else family.c.kelurahan_code
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
    groups: dict[str, GroupAggregate] = {}
    ref = default_wilayah()

    def group(code: str) -> GroupAggregate:
        if code not in groups:
            area = ref.find(code)
            groups[code] = GroupAggregate(code=code, name=area.name if area else None)
        return groups[code]

    for r in rows:
        g = group(r.code)
        g.families += int(r.families)
        g.members += int(r.members)
        g.by_data_status[r.data_status] = g.by_data_status.get(r.data_status, 0) + int(r.families)
        key = str(r.desil) if r.desil is not None else "none"
        g.by_desil[key] = g.by_desil.get(key, 0) + int(r.families)
    flag_rows = await session.execute(
        select(grp.label("code"), flag.c.kind, func.count(func.distinct(flag.c.family_id)).label("n"))
        .select_from(flag.join(family, family.c.id == flag.c.family_id))
        .where(flag.c.status == FlagStatus.OPEN, in_scope(principal))
        .group_by(grp, flag.c.kind)
    )
    for r in flag_rows:
        group(r.code).open_flags[r.kind] = int(r.n)
    return Aggregates(group_by=group_by, groups=[groups[c] for c in sorted(groups)])
