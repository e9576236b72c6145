"""The family's recipient (penerima): who it is when none was named, and replacing one (issue 12 item 4)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.domain.identifiers import today_wib
from services.registry.families.changes import Actor, Change, ChangeSet, finish
from services.registry.families.models import family, member, recipient_expr
from services.registry.families.repository import get_family_row
from services.registry.families.rules import RecipientCandidate, recipient_refusal
from services.registry.families.service import check_version
from services.registry.families.validation import Errors
from shared.auth.principal import Principal
from shared.events.household import HouseholdEventType


async def set_recipient(
    session: AsyncSession,
    *,
    family_id: str,
    member_id: str,
    reason: str,
    expected_version: int | None,
    principal: Principal,
    actor: Actor,
    versioned: bool = True,
) -> str:
    """Name the family's recipient (an adult, living, active member with a valid NIK); returns the family id.

    Clears an open recipient_deceased flag through the computed-flag refresh. Setting the current recipient
    again changes nothing, so a redelivered outcome is harmless. `versioned=False` (a verified usulan's outcome,
    applied in event order) skips the If-Match check."""
    row = await get_family_row(session, principal, family_id, for_update=True)
    if versioned:
        check_version(row, expected_version)
    current = (await session.execute(select(recipient_expr()).where(family.c.id == family_id))).scalar()
    m = (await session.execute(select(member).where(member.c.id == member_id))).mappings().first()
    errors = Errors()
    if m is None:
        errors.add("member_id", "recipient.not_in_family", "no such member")
    else:
        refusal = recipient_refusal(
            RecipientCandidate(
                family_id=m["family_id"],
                active=bool(m["active"]),
                deceased=bool(m["deceased"]),
                nik_issue=m["nik_issue"],
                birth_date=m["birth_date"],
                marital_status=m["marital_status"],
            ),
            family_id=family_id,
            today=today_wib(),
        )
        if refusal is not None:
            errors.add("member_id", *refusal)
    errors.raise_if_any()
    if current == member_id and row["recipient_member_id"] == member_id:
        return family_id
    await session.execute(update(family).where(family.c.id == family_id).values(recipient_member_id=member_id))
    changes = ChangeSet()
    changes.add(
        family_id,
        Change(
            HouseholdEventType.UPDATED,
            "recipient_changed",
            change={"fields": ["recipient_member_id"], "from": current, "to": member_id},
            before={"recipient_member_id": current},
            after={"recipient_member_id": member_id},
            member_id=member_id,
            reason=reason,
        ),
    )
    await finish(session, changes, actor)
    return family_id
