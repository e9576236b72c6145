"""Resolving flags (confirm / refute) and what a confirmation does to the family."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.domain.flags import FlagKind, FlagStatus, can_resolve
from services.registry.families.changes import Actor, Change, ChangeSet, finish
from services.registry.families.models import family, flag, member
from services.registry.families.repository import in_scope
from services.registry.families.service import record_death
from services.registry.flags import repository
from services.registry.flags.schemas import FlagFilter, FlagOut, FlagPage
from shared.auth.principal import Principal
from shared.events.envelope import utcnow
from shared.events.household import HouseholdEventType
from shared.http.problems import ProblemError


async def get_flag_row(session: AsyncSession, principal: Principal, flag_id: int) -> dict[str, Any]:
    """The flag if its family lies in the caller's wilayah, else 404."""
    row = (
        (
            await session.execute(
                select(flag, family.c.kelurahan_code)
                .join(family, family.c.id == flag.c.family_id)
                .where(flag.c.id == flag_id, in_scope(principal))
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise ProblemError(404, "No such flag in your wilayah.", code="flag_not_found")
    return dict(row)


async def list_flags(
    session: AsyncSession,
    *,
    principal: Principal,
    filters: FlagFilter,
    cursor: int | None,
    limit: int,
) -> FlagPage:
    """One page of flags of families in the caller's wilayah, newest first."""
    rows = await repository.list_flags(session, principal=principal, filters=filters, cursor=cursor, limit=limit)
    items = [FlagOut.model_validate(r) for r in rows[:limit]]
    return FlagPage(items=items, next_cursor=str(items[-1].id) if len(rows) > limit else None)


async def resolve_flag(
    session: AsyncSession, *, flag_id: int, confirm: bool, reason: str, principal: Principal, actor: Actor
) -> dict[str, Any]:
    """Confirm or refute an open flag; a confirmed Dukcapil death marks the member deceased."""
    row = await get_flag_row(session, principal, flag_id)
    if not can_resolve(row["status"]):
        raise ProblemError(409, f"The flag is already {row['status']}.", code="flag_not_open", status_now=row["status"])
    status = FlagStatus.CONFIRMED if confirm else FlagStatus.REFUTED
    now = utcnow()
    # Guarded transition: of two concurrent resolutions only one finds the flag still open.
    result = await session.execute(
        update(flag)
        .where(flag.c.id == flag_id, flag.c.status == FlagStatus.OPEN)
        .values(status=status, resolved_by=actor.subject, resolved_at=now, resolution_reason=reason)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ProblemError(409, "The flag was resolved by someone else.", code="flag_not_open")
    changes = ChangeSet()
    changes.add(
        row["family_id"],
        Change(
            HouseholdEventType.FLAG_RESOLVED,
            "flag_confirmed" if confirm else "flag_refuted",
            change={"flag_id": flag_id, "kind": row["kind"], "status": status.value},
            before={"flag_id": flag_id, "status": FlagStatus.OPEN.value},
            after={"flag_id": flag_id, "status": status.value, "kind": row["kind"]},
            member_id=row["member_id"],
            reason=reason,
        ),
    )
    if confirm and row["kind"] == FlagKind.DECEASED_DUKCAPIL and row["member_id"]:
        m = (await session.execute(select(member).where(member.c.id == row["member_id"]))).mappings().first()
        if m is not None and not m["deceased"]:
            detail = row["detail"] or {}
            when = detail.get("deceased_date")
            await record_death(
                session,
                member_row=dict(m),
                deceased_date=date.fromisoformat(when) if isinstance(when, str) else None,
                certificate_no=detail.get("death_certificate_no"),
                actor=actor,
                reason=f"Dukcapil death confirmed (flag {flag_id})",
                changes=changes,
            )
    await finish(session, changes, actor, now=now)
    return await get_flag_row(session, principal, flag_id)


def flags_in_scope(principal: Principal, *, filters: FlagFilter) -> Select[Any]:
    """The caller's flags matching the list's filters, newest first (the export streams it)."""
    return repository.flags_query(principal, filters)
