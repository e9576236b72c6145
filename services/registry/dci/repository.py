"""Every query of the DCI interface: partners, transactions and the searches over families and members."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, not_, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.dci.models import dci_partner, dci_transaction
from services.registry.dci.query import Clause, Condition, Search
from services.registry.families.models import family, member
from services.registry.families.repository import within

_group_size = (
    select(func.count())
    .where(member.c.family_id == family.c.id, member.c.active, not_(member.c.deceased))
    .correlate(family)
    .scalar_subquery()
)
_FAMILY_COLUMNS = (
    family.c.id.label("family_id"),
    family.c.no_kk,
    family.c.kelurahan_code,
    family.c.kecamatan_code,
    family.c.desil,
    family.c.desil_period,
    family.c.data_status,
    family.c.updated_at,
)
_MEMBER_COLUMNS = (
    member.c.id,
    member.c.nik,
    member.c.name,
    member.c.sex,
    member.c.birth_date,
    member.c.relationship,
    member.c.deceased,
    member.c.deceased_date,
)


async def get_partner(session: AsyncSession, sender_id: str) -> RowMapping | None:
    """The partner registered under `sender_id`."""
    result = await session.execute(select(dci_partner).where(dci_partner.c.sender_id == sender_id))
    return result.mappings().first()


async def list_partners(session: AsyncSession) -> Sequence[RowMapping]:
    """All partners, by sender id."""
    return (await session.execute(select(dci_partner).order_by(dci_partner.c.sender_id))).mappings().all()


async def save_partner(session: AsyncSession, values: dict[str, Any], now: datetime) -> None:
    """Insert the partner, or replace its settings when the sender id exists."""
    exists = await get_partner(session, values["sender_id"])
    if exists is None:
        await session.execute(insert(dci_partner).values(**values, created_at=now, updated_at=now))
    else:
        stmt = update(dci_partner).where(dci_partner.c.sender_id == values["sender_id"])
        await session.execute(stmt.values(**values, updated_at=now))


async def message_seen(session: AsyncSession, sender_id: str, message_id: str) -> bool:
    """Has this sender used this message id before."""
    stmt = select(dci_transaction.c.correlation_id).where(
        dci_transaction.c.sender_id == sender_id, dci_transaction.c.message_id == message_id
    )
    return (await session.execute(stmt)).first() is not None


async def add_transaction(session: AsyncSession, values: dict[str, Any]) -> None:
    """Record one received message."""
    await session.execute(insert(dci_transaction).values(**values))


async def transactions(
    session: AsyncSession, sender_id: str, *, transaction_id: str | None = None, correlation_id: str | None = None
) -> Sequence[RowMapping]:
    """The sender's transactions by transaction id or correlation id, oldest first."""
    stmt = select(dci_transaction).where(dci_transaction.c.sender_id == sender_id)
    if transaction_id is not None:
        stmt = stmt.where(dci_transaction.c.transaction_id == transaction_id)
    if correlation_id is not None:
        stmt = stmt.where(dci_transaction.c.correlation_id == correlation_id)
    return (await session.execute(stmt.order_by(dci_transaction.c.received_at))).mappings().all()


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _age(op: str, years: int, today: date) -> ColumnElement[bool]:
    # age >= n  ⇔  born on or before today minus n years; the other operators follow from it.
    def at_least(n: int) -> ColumnElement[bool]:
        return member.c.birth_date <= _years_before(today, n)

    if op == "ge":
        return at_least(years)
    if op == "gt":
        return at_least(years + 1)
    if op == "le":
        return not_(at_least(years + 1))
    if op == "lt":
        return not_(at_least(years))
    return and_(at_least(years), not_(at_least(years + 1)))


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "in":
        result: ColumnElement[bool] = column.in_(value)
    elif op == "eq":
        result = column == value
    elif op == "gt":
        result = column > value
    elif op == "lt":
        result = column < value
    elif op == "ge":
        result = column >= value
    else:
        result = column <= value
    return result


def _condition(c: Condition, today: date) -> ColumnElement[bool]:
    values = c.value if c.operator == "in" else [c.value]
    if c.attribute == "wilayah":
        return or_(*(within(family.c.kelurahan_code, v) for v in values))
    if c.attribute == "age":
        return or_(*(_age("eq" if c.operator == "in" else c.operator, v, today) for v in values))
    if c.attribute == "sex":
        return member.c.sex == ("L" if c.value == "male" else "P")
    column = {"status": family.c.data_status, "desil": family.c.desil, "group_size": _group_size}[c.attribute]
    return _compare(column, c.operator, c.value)


def _clause(clause: Clause, today: date) -> ColumnElement[bool]:
    first = _condition(clause.first, today)
    if clause.second is None:
        return first
    second = _condition(clause.second, today)
    if clause.condition == "or":
        return or_(first, second)
    return and_(first, not_(second) if clause.condition == "not" else second)


def _where(search: Search, scope: Sequence[str], today: date) -> list[ColumnElement[bool]]:
    where = [or_(*(within(family.c.kelurahan_code, s) for s in scope))]
    if search.id_type == "NIK":
        where.append(member.c.nik == search.id_value)
    elif search.id_type == "KK":
        where.append(family.c.no_kk == search.id_value)
    elif search.id_type == "HOUSEHOLD_ID":
        where.append(family.c.id == search.id_value)
    if search.record_type == "Person":
        where.append(member.c.active)
    where.extend(_clause(c, today) for c in search.clauses)
    return where


_SORT_COLUMNS: dict[str, Any] = {
    "desil": family.c.desil,
    "group_size": _group_size,
    "wilayah": family.c.kelurahan_code,
    "last_updated": family.c.updated_at,
    "birth_date": member.c.birth_date,
}


def _order(search: Search) -> list[Any]:
    order: list[Any] = []
    for name, descending in search.sort:
        # Older people have earlier birth dates: age ascending is birth date descending.
        column = _SORT_COLUMNS["birth_date" if name == "age" else name]
        descending = not descending if name == "age" else descending
        order.append(column.desc() if descending else column.asc())
    # Ties broken by id, so pages never overlap or skip.
    order.append(member.c.id if search.record_type == "Person" else family.c.id)
    return order


async def search_records(
    session: AsyncSession, search: Search, scope: Sequence[str], today: date
) -> tuple[Sequence[RowMapping], int]:
    """One page of matching families (Group) or members (Person) inside `scope`, and the total count."""
    where = _where(search, scope, today)
    if search.record_type == "Person":
        base = select(*_MEMBER_COLUMNS, *_FAMILY_COLUMNS).select_from(member.join(family))
        counted = select(func.count()).select_from(member.join(family))
    else:
        base = select(*_FAMILY_COLUMNS, _group_size.label("group_size")).select_from(family)
        counted = select(func.count()).select_from(family)
    total = int((await session.execute(counted.where(*where))).scalar_one())
    offset = (search.page_number - 1) * search.page_size
    stmt = base.where(*where).order_by(*_order(search)).limit(search.page_size).offset(offset)
    return (await session.execute(stmt)).mappings().all(), total


async def members_of(session: AsyncSession, family_ids: Sequence[str]) -> dict[str, list[RowMapping]]:
    """The active members of these families (with the family's columns), by family id."""
    if not family_ids:
        return {}
    stmt = (
        select(*_MEMBER_COLUMNS, *_FAMILY_COLUMNS)
        .select_from(member.join(family))
        .where(member.c.family_id.in_(family_ids), member.c.active)
        .order_by(member.c.family_id, member.c.id)
    )
    out: dict[str, list[RowMapping]] = {}
    for row in (await session.execute(stmt)).mappings():
        out.setdefault(row["family_id"], []).append(row)
    return out
