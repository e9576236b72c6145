"""Queries over families and members, always filtered by the caller's wilayah."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.domain.flags import FlagStatus
from services.registry.families.computed_flags import open_flag_exists
from services.registry.families.models import family, family_history, flag, member, recipient_expr
from services.registry.families.schemas import FamilyFilter as FamilyFilter
from shared.auth.principal import Principal
from shared.db.expressions import within
from shared.http.problems import ProblemError


def in_scope(principal: Principal) -> ColumnElement[bool]:
    """SQL: the family row is inside the caller's wilayah."""
    return within(family.c.kelurahan_code, principal.wilayah)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filter_clauses(principal: Principal, f: FamilyFilter) -> list[ColumnElement[bool]]:
    """WHERE conditions of a list/count: scope first, then the filters."""
    where = [in_scope(principal)]
    if f.kecamatan:
        where.append(family.c.kecamatan_code == f.kecamatan)
    if f.kelurahan:
        where.append(family.c.kelurahan_code == f.kelurahan)
    if f.desil_min is not None:
        where.append(family.c.desil >= f.desil_min)
    if f.desil_max is not None:
        where.append(family.c.desil <= f.desil_max)
    if f.data_status:
        where.append(family.c.data_status == f.data_status)
    if f.flag:
        where.append(open_flag_exists(None if f.flag == "any" else f.flag))
    if f.name:
        pattern = f"%{_like_escape(f.name.lower())}%"
        where.append(
            exists().where(
                member.c.family_id == family.c.id,
                member.c.active,
                func.lower(member.c.name).like(pattern, escape="\\"),
            )
        )
    return where


def member_count() -> Any:
    """Correlated count of a family's active living members."""
    return (
        select(func.count())
        .where(member.c.family_id == family.c.id, member.c.active, ~member.c.deceased)
        .scalar_subquery()
        .label("member_count")
    )


def encode_cursor(kelurahan_code: str, family_id: str) -> str:
    """Opaque cursor over the list order (kelurahan_code, id)."""
    return base64.urlsafe_b64encode(json.dumps([kelurahan_code, family_id]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The (kelurahan_code, id) a cursor stands for; 422 if it was not made by this API."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
        if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
            return value[0], value[1]
    except (binascii.Error, ValueError, UnicodeDecodeError):
        pass
    raise ProblemError(
        422, "cursor is not valid", code="validation", errors=[{"field": "cursor", "reason": "cursor.invalid"}]
    )


def families_query(principal: Principal, f: FamilyFilter) -> Select[Any]:
    """Families in scope matching the filters, in (kelurahan_code, id) order (the list pages it, the export streams
    it)."""
    # The effective recipient: a bulk-imported family stores none and reads as its head (one lookup per row).
    stmt = select(family, member_count(), recipient_expr().label("recipient_effective")).where(
        *filter_clauses(principal, f)
    )
    return stmt.order_by(family.c.kelurahan_code, family.c.id)


def list_query(principal: Principal, f: FamilyFilter, cursor: str | None, limit: int) -> Select[Any]:
    """One page of families in (kelurahan_code, id) order, plus one row to tell whether more follow."""
    stmt = families_query(principal, f)
    if cursor:
        kel, fid = decode_cursor(cursor)
        stmt = stmt.where(or_(family.c.kelurahan_code > kel, and_(family.c.kelurahan_code == kel, family.c.id > fid)))
    return stmt.limit(limit + 1)


async def count_families(session: AsyncSession, principal: Principal, f: FamilyFilter) -> int:
    """How many families match, within scope."""
    stmt = select(func.count()).select_from(family).where(*filter_clauses(principal, f))
    return int((await session.execute(stmt)).scalar_one())


async def get_family_row(
    session: AsyncSession, principal: Principal, family_id: str, *, for_update: bool = False
) -> dict[str, Any]:
    """The family row if it exists inside the caller's scope, else 404 (outside scope is indistinguishable)."""
    stmt = select(family, member_count()).where(family.c.id == family_id, in_scope(principal))
    if for_update:
        stmt = select(family).where(family.c.id == family_id, in_scope(principal)).with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    if row is None:
        raise ProblemError(404, "No such family in your wilayah.", code="family_not_found")
    return dict(row)


async def get_member_row(session: AsyncSession, principal: Principal, member_id: str) -> dict[str, Any]:
    """The member row if its family is inside the caller's scope, else 404."""
    stmt = (
        select(member)
        .join(family, family.c.id == member.c.family_id)
        .where(member.c.id == member_id, in_scope(principal))
    )
    row = (await session.execute(stmt)).mappings().first()
    if row is None:
        raise ProblemError(404, "No such member in your wilayah.", code="member_not_found")
    return dict(row)


@dataclass(frozen=True)
class FamilyDetail:
    """A family row, its members (active first, then by creation) and the kinds of its open flags."""

    family: dict[str, Any]
    members: list[dict[str, Any]]
    open_flags: set[str]


DetailKey = Literal["id", "no_kk", "nik"]
_FAMILY_KEYS = tuple(c.name for c in family.c)
_MEMBER_KEYS = tuple(c.name for c in member.c)


def _detail_query(by: DetailKey) -> Select[Any]:
    """The whole detail view in one round trip: the family, its members and its open flag kinds, in scope.

    Built once at import with bind parameters (the key, :wilayah, :wilayah_like), so a lookup neither rebuilds
    the expression nor recomputes its cache key. Shaped so that PostgreSQL's generic plan costs the same as a
    custom one: the prepared statement is then planned once per connection, not on every lookup (planning
    this join took three times as long as running it). Hence the NIK as a subquery (one row, by the unique
    index of active NIKs) rather than a join, and the flag status inline, matching the partial index."""
    if by == "nik":
        hit = member.alias("hit")
        found = (
            family.c.id == select(hit.c.family_id).where(hit.c.nik == bindparam("key"), hit.c.active).scalar_subquery()
        )
    else:
        found = family.c[by] == bindparam("key")
    kinds = (
        select(func.aggregate_strings(flag.c.kind, ","))
        .where(flag.c.family_id == family.c.id, flag.c.status == literal_column(f"'{FlagStatus.OPEN.value}'"))
        .scalar_subquery()
    )
    scope = or_(
        family.c.kelurahan_code == bindparam("wilayah"), family.c.kelurahan_code.like(bindparam("wilayah_like"))
    )
    return (
        select(*family.c, *member.c, kinds)
        .select_from(family.outerjoin(member, member.c.family_id == family.c.id))
        .where(found, scope)
        .order_by(member.c.active.desc(), member.c.created_at, member.c.id)
    )


_DETAIL_BY: dict[DetailKey, Select[Any]] = {key: _detail_query(key) for key in ("id", "no_kk", "nik")}


async def family_detail_row(
    session: AsyncSession, principal: Principal, by: DetailKey, key: str
) -> FamilyDetail | None:
    """The family (by "id", "no_kk" or the "nik" of an active member) with members and open flags, if in scope."""
    params = {"key": key, "wilayah": principal.wilayah, "wilayah_like": principal.wilayah + ".%"}
    rows = (await session.execute(_DETAIL_BY[by], params)).all()
    if not rows:
        return None
    nf, nm = len(_FAMILY_KEYS), len(_MEMBER_KEYS)
    first = rows[0]
    members = [dict(zip(_MEMBER_KEYS, r[nf : nf + nm], strict=True)) for r in rows if r[nf] is not None]
    kinds = first[nf + nm]
    return FamilyDetail(
        family=dict(zip(_FAMILY_KEYS, first[:nf], strict=True)),
        members=members,
        open_flags=set(kinds.split(",")) if kinds else set(),
    )


async def history_rows(session: AsyncSession, family_id: str, limit: int) -> list[Any]:
    """The first `limit` history rows of a family, oldest first (scope is the caller's check)."""
    rows = await session.execute(
        select(family_history).where(family_history.c.family_id == family_id).order_by(family_history.c.id).limit(limit)
    )
    return list(rows)


async def read_only(session: AsyncSession) -> None:
    """Run the session's statements without BEGIN/COMMIT: for a request that only reads, with one statement.

    One statement is consistent on its own, and a lookup saves two of its round trips to the database.
    Must come before the session's first statement; the pool restores the isolation level on check-in."""
    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
