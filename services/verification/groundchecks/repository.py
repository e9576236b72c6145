"""Queries of officers and ground checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification.groundchecks.models import OPEN_PREDICATE, OPEN_STATES, ground_check, officer
from services.verification.scope import within_scope
from shared.auth.principal import Principal


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


async def upsert_officer(session: AsyncSession, values: dict[str, Any]) -> None:
    """Insert or update an officer by subject."""
    base = _insert(session)(officer).values(values)
    await session.execute(
        base.on_conflict_do_update(
            index_elements=["subject"], set_={k: base.excluded[k] for k in values if k != "subject"}
        )
    )


async def get_officer(session: AsyncSession, subject: str) -> dict[str, Any] | None:
    """One officer by subject."""
    row = (await session.execute(select(officer).where(officer.c.subject == subject))).first()
    return dict(row._mapping) if row else None


async def list_officers(session: AsyncSession, principal: Principal) -> list[dict[str, Any]]:
    """Officers whose wilayah lies in the caller's scope."""
    stmt = select(officer).where(within_scope(officer.c.wilayah_code, principal)).order_by(officer.c.subject)
    return [dict(r._mapping) for r in await session.execute(stmt)]


def tksk_of_kecamatan() -> Select[Any]:
    """One active TKSK per kecamatan (the lowest subject when several are seeded): kecamatan → subject."""
    return (
        select(officer.c.wilayah_code.label("kecamatan_code"), func.min(officer.c.subject).label("subject"))
        .where(officer.c.role == "tksk", officer.c.active.is_(True))
        .group_by(officer.c.wilayah_code)
    )


async def tksk_for(session: AsyncSession, kecamatan_code: str) -> str | None:
    """The TKSK a new check in this kecamatan goes to by default."""
    sub = tksk_of_kecamatan().subquery()
    stmt = select(sub.c.subject).where(sub.c.kecamatan_code == kecamatan_code)
    return (await session.execute(stmt)).scalar_one_or_none()


async def open_check(
    session: AsyncSession,
    *,
    household_id: str | None,
    kecamatan_code: str,
    kelurahan_code: str,
    reason: str,
    origin_ref: str | None,
    due_at: datetime,
    now: datetime,
) -> tuple[int, bool]:
    """Open a check assigned to the kecamatan's TKSK; if one is already open for (family, reason), return it.

    Returns (check id, created)."""
    assignee = await tksk_for(session, kecamatan_code)
    values = {
        "household_id": household_id,
        "kecamatan_code": kecamatan_code,
        "kelurahan_code": kelurahan_code,
        "reason": reason,
        "origin_ref": origin_ref,
        "status": "assigned" if assignee else "open",
        "assigned_to": assignee,
        "assigned_role": "tksk" if assignee else None,
        "due_at": due_at,
        "created_at": now,
        "updated_at": now,
    }
    stmt = _insert(session)(ground_check).values(values)
    if household_id is not None:
        # The partial unique index is the guard: a redelivered trigger finds the open check and adds nothing.
        stmt = stmt.on_conflict_do_nothing(index_elements=["household_id", "reason"], index_where=text(OPEN_PREDICATE))
    created = (await session.execute(stmt.returning(ground_check.c.id))).scalar_one_or_none()
    if created is not None:
        return int(created), True
    existing = await session.execute(
        select(ground_check.c.id).where(
            ground_check.c.household_id == household_id,
            ground_check.c.reason == reason,
            ground_check.c.status.in_(OPEN_STATES),
        )
    )
    return int(existing.scalar_one()), False


async def get_check(session: AsyncSession, check_id: int, *, for_update: bool = False) -> dict[str, Any] | None:
    """One check by id."""
    stmt = select(ground_check).where(ground_check.c.id == check_id)
    if for_update and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).first()
    return dict(row._mapping) if row else None


async def guarded_update(
    session: AsyncSession, check_id: int, *, expected: str, values: dict[str, Any]
) -> dict[str, Any] | None:
    """UPDATE … WHERE status = expected; returns the updated row, or None if the state moved meanwhile."""
    stmt = (
        update(ground_check)
        .where(ground_check.c.id == check_id, ground_check.c.status == expected)
        .values(**values, version=ground_check.c.version + 1)
        .returning(*ground_check.c)
    )
    row = (await session.execute(stmt)).first()
    return dict(row._mapping) if row is not None else None


def filtered(
    principal: Principal,
    *,
    status: str | None = None,
    reason: str | None = None,
    assigned_to: str | None = None,
    kelurahan_code: str | None = None,
    household_id: str | None = None,
    campaign_id: int | None = None,
    overdue_at: datetime | None = None,
) -> list[Any]:
    """WHERE clauses of a check query, always including the caller's scope."""
    c = ground_check.c
    where: list[Any] = [within_scope(c.kelurahan_code, principal)]
    if status:
        where.append(c.status == status)
    if reason:
        where.append(c.reason == reason)
    if assigned_to:
        where.append(c.assigned_to == assigned_to)
    if kelurahan_code:
        where.append(or_prefix(c.kelurahan_code, kelurahan_code))
    if household_id:
        where.append(c.household_id == household_id)
    if campaign_id is not None:
        where.append(c.campaign_id == campaign_id)
    if overdue_at is not None:
        where.append(and_(c.status.in_(OPEN_STATES), c.due_at < overdue_at))
    return where


def or_prefix(column: Any, code: str) -> Any:
    """Rows inside wilayah `code` (a kecamatan or kelurahan filter)."""
    return (column == code) | column.like(code + ".%")


def checks_query(where: list[Any]) -> Select[Any]:
    """Checks matching `where`, oldest due first (the list pages it, the export streams it)."""
    return select(ground_check).where(*where).order_by(ground_check.c.due_at, ground_check.c.id)


async def list_checks(
    session: AsyncSession, where: list[Any], *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of checks (oldest due first) and the total."""
    total = (await session.execute(select(func.count()).select_from(ground_check).where(*where))).scalar_one()
    stmt = checks_query(where).limit(limit).offset(offset)
    return [dict(r._mapping) for r in await session.execute(stmt)], int(total)


async def counts_by(
    session: AsyncSession, key: Any, where: list[Any], *, now: datetime
) -> dict[Any, tuple[dict[str, int], int]]:
    """Per `key`: counts of checks by state, and how many are overdue."""
    c = ground_check.c
    overdue = func.sum(case((and_(c.status.in_(OPEN_STATES), c.due_at < now), 1), else_=0))
    stmt = select(key, c.status, func.count(), overdue).where(*where).group_by(key, c.status)
    out: dict[Any, tuple[dict[str, int], int]] = {}
    for k, status, n, late in await session.execute(stmt):
        counts, late_total = out.get(k, ({}, 0))
        counts[status] = int(n)
        out[k] = (counts, late_total + int(late or 0))
    return out


async def assignee_roles(session: AsyncSession, subjects: list[str]) -> dict[str, str]:
    """Role of each officer subject."""
    if not subjects:
        return {}
    rows = await session.execute(select(officer.c.subject, officer.c.role).where(officer.c.subject.in_(subjects)))
    return {s: r for s, r in rows}


async def count_overdue(session: AsyncSession, *, now: datetime) -> tuple[int, int]:
    """Open checks past their due date, city-wide: (all, of which not even assigned yet)."""
    c = ground_check.c
    late = and_(c.status.in_(OPEN_STATES), c.due_at < now)
    unassigned = func.coalesce(func.sum(case((c.assigned_to.is_(None), 1), else_=0)), 0)
    total, open_unassigned = (await session.execute(select(func.count(), unassigned).where(late))).one()
    return int(total), int(open_unassigned)
