"""Queries of the correction queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.domain.flags import FlagKind, FlagStatus
from services.registry.families.models import flag
from services.registry.imports.models import correction
from shared.auth.principal import Principal, ScopeLevel
from shared.db.expressions import within
from shared.http.problems import ProblemError

OPEN, FIXED, DISMISSED = "open", "fixed", "dismissed"


def in_scope(principal: Principal) -> Any:
    """SQL: the entry lies in the caller's wilayah (one without a known kelurahan is for kota-wide roles)."""
    inside = within(correction.c.kelurahan_code, principal.wilayah)
    if principal.scope_level is ScopeLevel.KOTA:
        return or_(inside, correction.c.kelurahan_code.is_(None))
    return inside


def entries_query(
    principal: Principal,
    *,
    status: str | None,
    rule: str | None,
    kecamatan: str | None,
    kelurahan: str | None,
    family_id: str | None,
    import_id: str | None,
) -> Select[Any]:
    """Entries in scope matching the filters, oldest first (the list pages it, the export streams it)."""
    c = correction
    stmt = select(c).where(in_scope(principal))
    for column, value in (
        (c.c.status, status),
        (c.c.rule, rule),
        (c.c.kecamatan_code, kecamatan),
        (c.c.kelurahan_code, kelurahan),
        (c.c.family_id, family_id),
        (c.c.import_id, import_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt.order_by(c.c.id)


async def list_entries(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    rule: str | None,
    kecamatan: str | None,
    kelurahan: str | None,
    family_id: str | None,
    import_id: str | None,
    cursor: int | None,
    limit: int,
) -> list[dict[str, Any]]:
    """A page of entries in scope, oldest first (limit + 1 rows: the extra one says there is more)."""
    stmt = entries_query(
        principal,
        status=status,
        rule=rule,
        kecamatan=kecamatan,
        kelurahan=kelurahan,
        family_id=family_id,
        import_id=import_id,
    )
    if cursor is not None:
        stmt = stmt.where(correction.c.id > cursor)
    return [dict(r) for r in (await session.execute(stmt.limit(limit + 1))).mappings()]


async def get_entry(session: AsyncSession, principal: Principal, entry_id: int) -> dict[str, Any]:
    """The entry if it lies in the caller's wilayah (locked for the change), else 404."""
    stmt = select(correction).where(correction.c.id == entry_id, in_scope(principal)).with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    if row is None:
        raise ProblemError(404, "No such correction-queue entry in your wilayah.", code="correction_not_found")
    return dict(row)


async def close_entry(session: AsyncSession, entry_id: int, values: dict[str, Any]) -> None:
    """Settle an open entry; 409 if someone settled it first."""
    result = await session.execute(
        update(correction).where(correction.c.id == entry_id, correction.c.status == OPEN).values(**values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ProblemError(409, "The entry was settled by someone else.", code="correction_not_open")


async def open_entries(session: AsyncSession, family_id: str) -> int:
    """Open entries of a family."""
    stmt = select(func.count()).where(correction.c.family_id == family_id, correction.c.status == OPEN)
    return int((await session.execute(stmt)).scalar_one())


async def clear_needs_correction(session: AsyncSession, family_id: str, *, actor: str, now: Any) -> list[int]:
    """Clear the family's open member_needs_correction flag; the ids cleared."""
    result = await session.execute(
        update(flag)
        .where(
            and_(
                flag.c.family_id == family_id,
                flag.c.kind == FlagKind.MEMBER_NEEDS_CORRECTION,
                flag.c.status == FlagStatus.OPEN,
            )
        )
        .values(
            status=FlagStatus.CLEARED,
            resolved_by=actor,
            resolved_at=now,
            resolution_reason="every queued row of the family was fixed or dismissed",
        )
        .returning(flag.c.id)
    )
    return [int(i) for i in result.scalars()]
