"""What the registry knows of a family at a moment, and its PII-free event payload (HouseholdState)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.families.computed_flags import flag_kinds_by_family
from services.registry.families.models import family, member, recipient_expr
from services.registry.families.rules import MemberFacts, composition
from shared.db.expressions import one_of
from shared.events.household import DataStatus, HouseholdState
from shared.privacy.digest import digest_key, nik_digest


@dataclass
class FamilyFacts:
    """A family row, its members' facts and its flag kinds: enough for status rules and the event payload."""

    row: dict[str, Any]
    members: list[MemberFacts] = field(default_factory=list)
    open_flags: set[str] = field(default_factory=set)
    confirmed_flags: set[str] = field(default_factory=set)
    member_digests: set[str] = field(default_factory=set)  # keyed NIK digests of the active members

    @property
    def living_members(self) -> int:
        """Active members not recorded as deceased."""
        return sum(1 for m in self.members if m.active and not m.deceased)

    @property
    def any_members(self) -> bool:
        """Has the family any active member at all (alive or not)."""
        return any(m.active for m in self.members)


async def load_facts(session: AsyncSession, family_ids: Sequence[str]) -> dict[str, FamilyFacts]:
    """Facts of these families in three queries (families, members, flags); chunk large sets by the caller."""
    ids = list(family_ids)
    if not ids:
        return {}
    facts = {
        r["id"]: FamilyFacts(row=dict(r))
        for r in (
            await session.execute(
                select(family, recipient_expr().label("recipient_id")).where(one_of(session, family.c.id, ids))
            )
        ).mappings()
    }
    rows = await session.execute(
        select(
            member.c.family_id,
            member.c.active,
            member.c.deceased,
            member.c.birth_date,
            member.c.school_status,
            member.c.disability,
            member.c.pregnant,
            member.c.nik,
        ).where(one_of(session, member.c.family_id, ids), member.c.active)
    )
    key = digest_key(session)
    for r in rows:
        facts[r.family_id].member_digests.add(nik_digest(r.nik, key))
        facts[r.family_id].members.append(
            MemberFacts(
                active=bool(r.active),
                deceased=bool(r.deceased),
                birth_date=r.birth_date,
                school_status=r.school_status,
                disability=r.disability,
                pregnant=r.pregnant,
            )
        )
    for fid, (open_kinds, confirmed_kinds) in (await flag_kinds_by_family(session, ids)).items():
        if fid in facts:
            facts[fid].open_flags, facts[fid].confirmed_flags = open_kinds, confirmed_kinds
    return facts


def household_state(facts: FamilyFacts, today: date, change: Mapping[str, Any] | None = None) -> HouseholdState:
    """The PII-free payload of a registry.household.v1 event: codes, statuses and counts only."""
    row = facts.row
    return HouseholdState(
        household_id=row["id"],
        kecamatan_code=row["kecamatan_code"],
        kelurahan_code=row["kelurahan_code"],
        data_status=DataStatus(row["data_status"]),
        status_reason=row["status_reason"],
        desil=row["desil"],
        desil_period=row["desil_period"],
        recipient_member_id=row.get("recipient_id"),
        open_flags=sorted(facts.open_flags),
        confirmed_flags=sorted(facts.confirmed_flags),
        composition=composition(facts.members, today),
        member_digests=sorted(facts.member_digests),
        change=dict(change or {}),
    )


async def household_states(session: AsyncSession, family_ids: Sequence[str], today: date) -> dict[str, HouseholdState]:
    """HouseholdState of each family (for bulk emitters: chunk ids by a few thousand)."""
    return {fid: household_state(f, today) for fid, f in (await load_facts(session, family_ids)).items()}
