"""Every query of the DCI interface: partners, transactions and the searches over families and members."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, func, insert, not_, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.dci.models import dci_callback, dci_partner, dci_subscription, dci_transaction
from services.registry.dci.query import Clause, Condition, RecordType, Search
from services.registry.families.models import family, member
from shared.db.dialect import insert_for
from shared.db.expressions import within

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


# Built once: every DCI request runs it, and a statement object reused keeps its cache key (building and keying a
# statement per request cost more CPU than running it).
_SENDER = select(
    dci_partner,
    exists()
    .where(
        dci_transaction.c.sender_id == dci_partner.c.sender_id,
        dci_transaction.c.message_id == bindparam("message_id"),
    )
    .label("message_seen"),
).where(dci_partner.c.sender_id == bindparam("sender_id"))
_ADD_TRANSACTION = insert(dci_transaction)


async def get_sender(session: AsyncSession, sender_id: str, message_id: str) -> RowMapping | None:
    """The partner registered under `sender_id`, with `message_seen`: has it used this message id before (one
    round trip for what every DCI request asks first)."""
    result = await session.execute(_SENDER, {"sender_id": sender_id, "message_id": message_id})
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


async def add_transaction(session: AsyncSession, values: dict[str, Any]) -> None:
    """Record one received message."""
    await session.execute(_ADD_TRANSACTION, values)


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
    # The id is a named parameter, so a statement without clauses can be kept and reused (_id_search).
    if search.id_type == "NIK":
        where.append(member.c.nik == bindparam("id_value"))
    elif search.id_type == "KK":
        where.append(family.c.no_kk == bindparam("id_value"))
    elif search.id_type == "HOUSEHOLD_ID":
        where.append(family.c.id == bindparam("id_value"))
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


def _search_statements(search: Search, scope: Sequence[str], today: date) -> tuple[Select[Any], Select[Any]]:
    """The page statement (rows with the total as a window) and the count statement of a search."""
    where = _where(search, scope, today)
    if search.record_type == "Person":
        base = select(*_MEMBER_COLUMNS, *_FAMILY_COLUMNS).select_from(member.join(family))
        counted = select(func.count()).select_from(member.join(family))
    else:
        base = select(*_FAMILY_COLUMNS, _group_size.label("group_size")).select_from(family)
        counted = select(func.count()).select_from(family)
    offset = (search.page_number - 1) * search.page_size
    # The total rides on the page's rows (a window over the filtered set), so a search is one round trip; only
    # a page past the end, which has no row to carry it, counts again.
    stmt = base.add_columns(func.count().over().label("_total"))
    stmt = stmt.where(*where).order_by(*_order(search)).limit(search.page_size).offset(offset)
    return stmt, counted.where(*where)


@lru_cache(maxsize=256)
def _id_search(
    record_type: RecordType,
    id_type: str | None,
    sort: tuple[tuple[str, bool], ...],
    page_size: int,
    page_number: int,
    scope: tuple[str, ...],
) -> tuple[Select[Any], Select[Any]]:
    # A search by id alone (what a bank asks all day) differs from the next only in the id: its statements are
    # kept per shape instead of built again per request.
    shape = Search(record_type, id_type=id_type, sort=sort, page_size=page_size, page_number=page_number)
    return _search_statements(shape, scope, date.min)


async def search_records(
    session: AsyncSession, search: Search, scope: Sequence[str], today: date
) -> tuple[Sequence[RowMapping], int]:
    """One page of matching families (Group) or members (Person) inside `scope`, and the total count."""
    if search.clauses:
        stmt, counted = _search_statements(search, scope, today)
    else:
        stmt, counted = _id_search(
            search.record_type, search.id_type, search.sort, search.page_size, search.page_number, tuple(scope)
        )
    params = {"id_value": search.id_value} if search.id_type else {}
    rows = (await session.execute(stmt, params)).mappings().all()
    if rows:
        return rows, int(rows[0]["_total"])
    if search.page_number == 1:
        return rows, 0
    return rows, int((await session.execute(counted, params)).scalar_one())


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


async def pending_transactions(session: AsyncSession, limit: int) -> Sequence[RowMapping]:
    """Async requests received but not answered yet, oldest first (locked against a second runner)."""
    stmt = (
        select(dci_transaction)
        .where(dci_transaction.c.pending_message.is_not(None), dci_transaction.c.status == "rcvd")
        .order_by(dci_transaction.c.received_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(stmt)).mappings().all()


async def answer_transaction(session: AsyncSession, correlation_id: str, values: dict[str, Any]) -> None:
    """Store what an async request was answered (its message no longer pending)."""
    stmt = update(dci_transaction).where(dci_transaction.c.correlation_id == correlation_id)
    await session.execute(stmt.values(pending_message=None, **values))


async def add_callbacks(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Queue callbacks (one multi-row INSERT)."""
    if rows:
        await session.execute(insert(dci_callback), list(rows))


async def claim_callbacks(
    session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int
) -> list[dict[str, Any]]:
    """Lease the due callbacks (queued, or delivering with an expired lease), one per partner and family at a
    time and never before an earlier one of the same family; oldest first."""
    earlier = dci_callback.alias("earlier")
    blocked = exists().where(
        earlier.c.sender_id == dci_callback.c.sender_id,
        earlier.c.family_id == dci_callback.c.family_id,
        earlier.c.id < dci_callback.c.id,
        earlier.c.status.in_(("queued", "delivering")),
    )
    due = (
        select(dci_callback.c.id)
        .where(
            dci_callback.c.status.in_(("queued", "delivering")),
            dci_callback.c.next_attempt_at <= now,
            or_(dci_callback.c.family_id.is_(None), not_(blocked)),
        )
        .order_by(dci_callback.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list((await session.execute(due)).scalars())
    if not ids:
        return []
    await session.execute(
        update(dci_callback).where(dci_callback.c.id.in_(ids)).values(status="delivering", next_attempt_at=lease_until)
    )
    rows = await session.execute(select(dci_callback).where(dci_callback.c.id.in_(ids)).order_by(dci_callback.c.id))
    return [dict(r) for r in rows.mappings()]


async def _transaction_outcome(session: AsyncSession, correlation_id: str | None, status: str, at: datetime) -> None:
    # The request a callback answers is done when its callback is delivered (succ) or dead (rjct).
    if correlation_id is not None:
        await session.execute(
            update(dci_transaction)
            .where(dci_transaction.c.correlation_id == correlation_id, dci_transaction.c.status == "pdng")
            .values(status=status, completed_at=at)
        )


async def callbacks_delivered(session: AsyncSession, rows: Sequence[Mapping[str, Any]], *, at: datetime) -> None:
    """Mark callbacks delivered (one UPDATE), and the requests they answered done."""
    stmt = update(dci_callback).where(dci_callback.c.id.in_([r["id"] for r in rows]))
    await session.execute(stmt.values(status="delivered", attempts=dci_callback.c.attempts + 1, delivered_at=at))
    for correlation_id in {r["correlation_id"] for r in rows if r["correlation_id"] is not None}:
        await _transaction_outcome(session, correlation_id, "succ", at)


async def callback_retry(
    session: AsyncSession, callback_id: int, *, attempts: int, error: str, next_at: datetime
) -> None:
    """Put a failed callback back in the queue for a later attempt."""
    stmt = update(dci_callback).where(dci_callback.c.id == callback_id)
    await session.execute(stmt.values(status="queued", attempts=attempts, last_error=error, next_attempt_at=next_at))


async def callback_dead(
    session: AsyncSession, row: Mapping[str, Any], *, attempts: int, error: str, at: datetime
) -> None:
    """Give up on a callback after its last attempt (dead-letter state)."""
    stmt = update(dci_callback).where(dci_callback.c.id == row["id"])
    await session.execute(stmt.values(status="dead", attempts=attempts, last_error=error, next_attempt_at=at))
    await _transaction_outcome(session, row["correlation_id"], "rjct", at)


async def list_callbacks(
    session: AsyncSession, *, status: str | None, sender_id: str | None, limit: int
) -> Sequence[RowMapping]:
    """Callbacks (without their bodies), newest first."""
    columns = [c for c in dci_callback.c if c.name != "body"]
    stmt = select(*columns).order_by(dci_callback.c.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(dci_callback.c.status == status)
    if sender_id is not None:
        stmt = stmt.where(dci_callback.c.sender_id == sender_id)
    return (await session.execute(stmt)).mappings().all()


async def retry_dead(session: AsyncSession, *, ids: Sequence[int] | None, now: datetime) -> int:
    """Queue dead callbacks again (these ids, or all), with a fresh set of attempts; how many."""
    stmt = update(dci_callback).where(dci_callback.c.status == "dead")
    if ids is not None:
        stmt = stmt.where(dci_callback.c.id.in_(ids))
    result = await session.execute(stmt.values(status="queued", attempts=0, next_attempt_at=now))
    # Their transactions are pending again until the callback is delivered.
    correlation = select(dci_callback.c.correlation_id).where(
        dci_callback.c.status == "queued", dci_callback.c.correlation_id.is_not(None)
    )
    await session.execute(
        update(dci_transaction)
        .where(dci_transaction.c.correlation_id.in_(correlation), dci_transaction.c.status == "rjct")
        .values(status="pdng", completed_at=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def callback_states(session: AsyncSession, correlation_ids: Sequence[str]) -> dict[str, RowMapping]:
    """The callback of each of these transactions (status, attempts, last error)."""
    if not correlation_ids:
        return {}
    stmt = select(
        dci_callback.c.correlation_id, dci_callback.c.status, dci_callback.c.attempts, dci_callback.c.last_error
    ).where(dci_callback.c.correlation_id.in_(correlation_ids))
    return {r["correlation_id"]: r for r in (await session.execute(stmt)).mappings()}


async def add_subscriptions(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Store new subscriptions."""
    if rows:
        await session.execute(insert(dci_subscription), list(rows))


async def active_subscriptions(session: AsyncSession, sender_id: str | None = None) -> Sequence[RowMapping]:
    """Subscriptions still in force (of one partner, or all)."""
    stmt = select(dci_subscription).where(dci_subscription.c.status == "subscribe")
    if sender_id is not None:
        stmt = stmt.where(dci_subscription.c.sender_id == sender_id)
    return (await session.execute(stmt.order_by(dci_subscription.c.created_at))).mappings().all()


async def end_subscriptions(session: AsyncSession, sender_id: str, codes: Sequence[str], at: datetime) -> set[str]:
    """Unsubscribe these codes of the partner; the codes that were still active."""
    stmt = (
        update(dci_subscription)
        .where(
            dci_subscription.c.sender_id == sender_id,
            dci_subscription.c.code.in_(codes),
            dci_subscription.c.status == "subscribe",
        )
        .values(status="unsubscribe", ended_at=at)
        .returning(dci_subscription.c.code)
    )
    return set((await session.execute(stmt)).scalars())


async def families_matching(
    session: AsyncSession, family_ids: Sequence[str], search: Search, scope: Sequence[str], today: date
) -> set[str]:
    """Which of these families a subscription's filter (inside the partner's scope) selects."""
    if not family_ids:
        return set()
    where = _where(search, scope, today)
    # Person filters (age, sex, NIK) select the family of any matching active member.
    source = member.join(family) if search.record_type == "Person" or search.id_type == "NIK" else family
    stmt = select(family.c.id).select_from(source).where(family.c.id.in_(family_ids), *where).distinct()
    return set((await session.execute(stmt)).scalars())


async def family_rows(session: AsyncSession, family_ids: Sequence[str]) -> dict[str, RowMapping]:
    """The Group columns of these families."""
    if not family_ids:
        return {}
    stmt = select(*_FAMILY_COLUMNS, _group_size.label("group_size")).where(family.c.id.in_(family_ids))
    return {r["family_id"]: r for r in (await session.execute(stmt)).mappings()}


async def add_callbacks_once(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Queue callbacks, skipping message ids already queued (a replayed event queues nothing twice)."""
    if rows:
        stmt = insert_for(session, dci_callback).on_conflict_do_nothing(index_elements=["message_id"])
        await session.execute(stmt, list(rows))
