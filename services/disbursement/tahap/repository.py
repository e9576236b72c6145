"""Queries of tahap, their generations and frozen lists (the bulk work is set-based)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, exists, false, func, literal, select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.households.models import household_status
from services.disbursement.payments.models import payment_line
from services.disbursement.programmes.eligibility import ranked_query
from services.disbursement.programmes.rules import RuleDefinition, list_hash_lines
from services.disbursement.scope import within_scope
from services.disbursement.tahap_state.models import tahap, tahap_generation, tahap_key, tahap_list
from services.disbursement.tahap_state.repository import listed_in
from shared.auth.principal import Principal
from shared.db.dialect import analyze, bulk_settings, insert_for, is_pg

tahap_lists = tahap_list.c
tk = tahap_key.c
payment_lines = payment_line.c


async def list_tahap(session: AsyncSession, programme_code: str | None) -> list[RowMapping]:
    """Tahap, newest first."""
    stmt = select(tahap).order_by(tahap.c.created_at.desc())
    if programme_code:
        stmt = stmt.where(tahap.c.programme_code == programme_code)
    return list((await session.execute(stmt)).mappings().all())


async def insert_tahap(session: AsyncSession, values: dict[str, Any]) -> None:
    """Store a tahap and give it the small integer key of its frozen lists."""
    await session.execute(tahap.insert().values(values))
    await session.execute(tahap_key.insert().values(tahap_id=values["id"]))


async def list_key(session: AsyncSession, tahap_id: str) -> int:
    """The integer standing for the tahap in tahap_list."""
    return int((await session.execute(select(tk.key).where(tk.tahap_id == tahap_id))).scalar_one())


async def freeze_list(session: AsyncSession, *, key: int, generation: int, rule: RuleDefinition, as_of: date) -> None:
    """Evaluate the rule over the whole read model and freeze the result in ONE INSERT … SELECT."""
    if is_pg(session):
        await bulk_settings(session)
    ranked = ranked_query(is_pg(session), rule, as_of).subquery("ranked")
    names = [c.name for c in ranked.c]
    source = select(literal(key), literal(generation), *ranked.c)
    await session.execute(tahap_list.insert().from_select(["tahap_key", "generation", *names], source))
    # Without statistics the planner cannot tell the primary key from the index of ranks when joining two
    # generations on household_id: picking the latter rescans a whole list per family (minutes, not seconds).
    await analyze(session, "tahap_list", columns=("tahap_key", "generation", "household_id", "listed", "list_rank"))


async def list_summary(session: AsyncSession, key: int, generation: int) -> tuple[str, int, int]:
    """(sha256 of the listed families in rank order as 'rank|household_id|amount' lines, families, total amount)."""
    params = {"k": key, "g": generation}
    if is_pg(session):
        sql = text(
            "SELECT encode(sha256(convert_to(coalesce(string_agg("
            "list_rank::text || '|' || household_id || '|' || amount::text, E'\\n' ORDER BY list_rank), ''),"
            " 'UTF8')), 'hex'), count(*), coalesce(sum(amount), 0)"
            " FROM tahap_list WHERE tahap_key = :k AND generation = :g AND listed AND list_rank IS NOT NULL"
        )
        digest, count, total = (await session.execute(sql, params)).one()
        return str(digest), int(count), int(total)
    stmt = (
        select(tahap_lists.list_rank, tahap_lists.household_id, tahap_lists.amount)
        .where(listed_in(key, generation))
        .order_by(tahap_lists.list_rank)
    )
    sha = hashlib.sha256()
    count = total = 0
    async for rank, hh, amount in await session.stream(stmt):
        sha.update((b"\n" if count else b"") + list_hash_lines([(rank, hh, amount)]).encode())
        count += 1
        total += amount
    return sha.hexdigest(), count, total


async def list_totals(
    session: AsyncSession, key: int, generation: int, *, scope: Principal | None = None
) -> tuple[int, int]:
    """(families listed, total amount) of a generation, within `scope`'s wilayah when given."""
    stmt = select(func.count(), func.coalesce(func.sum(tahap_lists.amount), 0)).where(listed_in(key, generation))
    if scope is not None:
        stmt = stmt.where(within_scope(tahap_lists.kelurahan_code, scope))
    count, total = (await session.execute(stmt)).one()
    return int(count), int(total)


def _diff_queries(key: int, generation: int) -> dict[str, Any]:
    cur = tahap_list.alias("cur")
    prev = tahap_list.alias("prev")
    same = and_(listed_in(key, generation - 1, prev), prev.c.household_id == cur.c.household_id)
    back = and_(listed_in(key, generation, cur), cur.c.household_id == prev.c.household_id)
    return {
        "added": select(cur.c.household_id).where(listed_in(key, generation, cur), ~exists().where(same)),
        "removed": select(prev.c.household_id).where(listed_in(key, generation - 1, prev), ~exists().where(back)),
        "changed": select(cur.c.household_id)
        .join(prev, prev.c.household_id == cur.c.household_id)
        .where(listed_in(key, generation, cur), listed_in(key, generation - 1, prev))
        .where(prev.c.amount != cur.c.amount),
    }


async def diff_counts(session: AsyncSession, key: int, generation: int, listed: int) -> dict[str, int]:
    """added / removed / changed (amount) between a generation and the one before (`listed`: families now)."""
    if generation == 1:
        # Nothing came before: every listed family is new.
        return {"added": listed, "removed": 0, "changed": 0}
    out = {}
    for name, query in _diff_queries(key, generation).items():
        sub = query.subquery()
        out[name] = int((await session.execute(select(func.count()).select_from(sub))).scalar_one())
    return out


async def diff_ids(
    session: AsyncSession, key: int, generation: int, limit: int, counts: dict[str, int]
) -> dict[str, list[str]]:
    """Up to `limit` household ids per kind of difference (`counts`: how many there are, from the generation)."""
    if generation == 1:
        first = (
            select(tahap_lists.household_id)
            .where(listed_in(key, generation))
            .order_by(tahap_lists.household_id)
            .limit(limit)
        )
        return {"added": list((await session.execute(first)).scalars()), "removed": [], "changed": []}
    out: dict[str, list[str]] = {}
    for name, query in _diff_queries(key, generation).items():
        if not counts[name]:
            out[name] = []  # nothing to look for (an unchanged regeneration would scan both lists three times)
            continue
        sub = query.subquery()
        rows = await session.execute(select(sub.c.household_id).order_by(sub.c.household_id).limit(limit))
        out[name] = [r[0] for r in rows]
    return out


async def drop_old_generations(session: AsyncSession, key: int, keep_from: int) -> None:
    """Keep only the newest two generations of a tahap's list (current and the one its diff refers to)."""
    await session.execute(delete(tahap_list).where(tahap_lists.tahap_key == key, tahap_lists.generation < keep_from))


async def insert_generation(session: AsyncSession, values: dict[str, Any]) -> None:
    """Record one list generation."""
    await session.execute(tahap_generation.insert().values(values))


async def get_generation(session: AsyncSession, tahap_id: str, generation: int) -> RowMapping | None:
    """One generation record."""
    g = tahap_generation.c
    stmt = select(tahap_generation).where(g.tahap_id == tahap_id, g.generation == generation)
    return (await session.execute(stmt)).mappings().first()


async def sync_planned_lines(
    session: AsyncSession, *, key: int, tahap_id: str, programme_code: str, generation: int, now: datetime
) -> None:
    """One planned line per listed family (UNIQUE guards it); lines of families no longer listed go away.

    Lines are only ever made here, and the row lock on the tahap (see `guarded_update`) serialises its
    generations: a first generation finds no lines, a later one finds those of the previous generation committed."""
    cols = [
        "programme_code",
        "tahap_id",
        "household_id",
        "kecamatan_code",
        "kelurahan_code",
        "recipient_member_id",
        "amount",
        "status",
        "version",
        "created_at",
        "updated_at",
    ]
    source = select(
        literal(programme_code),
        literal(tahap_id),
        tahap_lists.household_id,
        tahap_lists.kecamatan_code,
        tahap_lists.kelurahan_code,
        household_status.c.recipient_member_id,
        tahap_lists.amount,
        literal("planned"),
        literal(1),
        literal(now),
        literal(now),
    )
    # In household order the unique key's entries of a tahap are appended, not scattered (a fifth cheaper).
    source = (
        source.select_from(
            tahap_list.outerjoin(household_status, household_status.c.household_id == tahap_lists.household_id)
        )
        .where(listed_in(key, generation))
        .order_by(tahap_lists.household_id)
    )
    if generation == 1:
        # Nothing to reconcile with: a plain INSERT (no speculative insertion per row).
        await session.execute(payment_line.insert().from_select(cols, source))
        return
    own = and_(payment_lines.tahap_id == tahap_id, payment_lines.programme_code == programme_code)
    same_family = and_(listed_in(key, generation), tahap_lists.household_id == payment_lines.household_id)
    # A planned line follows its family's new amount (and kelurahan); a line already sent keeps what was sent.
    await session.execute(
        update(payment_line)
        .where(own, payment_lines.status == "planned", same_family, payment_lines.amount != tahap_lists.amount)
        .values(
            amount=tahap_lists.amount,
            kecamatan_code=tahap_lists.kecamatan_code,
            kelurahan_code=tahap_lists.kelurahan_code,
            updated_at=now,
        )
    )
    await session.execute(
        delete(payment_line).where(own, payment_lines.status.in_(["planned", "on_hold"]), ~exists().where(same_family))
    )
    # ON CONFLICT rather than NOT EXISTS: an INSERT must not join the table it fills (planned on a table that
    # looked empty, the anti-join would rescan every row it has just added).
    ins = insert_for(session, payment_line).from_select(cols, source)
    await session.execute(ins.on_conflict_do_nothing(index_elements=["tahap_id", "household_id", "programme_code"]))


async def delete_unsent_lines(session: AsyncSession, tahap_id: str) -> None:
    """A cancelled tahap never paid anything: its planned (or held) lines are removed."""
    await session.execute(
        delete(payment_line).where(payment_lines.tahap_id == tahap_id, payment_lines.status.in_(["planned", "on_hold"]))
    )


async def previous_committed(session: AsyncSession, row: RowMapping) -> RowMapping | None:
    """The newest approved/paying/closed tahap of the same programme created before this one."""
    stmt = (
        select(tahap)
        .where(
            tahap.c.programme_code == row["programme_code"],
            tahap.c.status.in_(["approved", "paying", "closed"]),
            tahap.c.created_at < row["created_at"],
            tahap.c.id != row["id"],
        )
        .order_by(tahap.c.created_at.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).mappings().first()


def list_query(
    *, key: int, generation: int, scope: ColumnElement[bool] | Any, listed: bool | None, kecamatan_code: str | None
) -> Select[Any]:
    """The frozen list in rank order (listed first), scoped and filtered (the list and its exports)."""
    stmt = select(tahap_list).where(tahap_lists.tahap_key == key, tahap_lists.generation == generation, scope)
    if listed:
        stmt = stmt.where(listed_in(key, generation))
    elif listed is not None:
        stmt = stmt.where(tahap_lists.listed == false())
    if kecamatan_code:
        stmt = stmt.where(tahap_lists.kecamatan_code == kecamatan_code)
    return stmt.order_by(tahap_lists.listed.desc(), tahap_lists.list_rank, tahap_lists.household_id)


async def list_page(
    session: AsyncSession,
    *,
    key: int,
    generation: int,
    scope: ColumnElement[bool] | Any,
    listed: bool | None,
    kecamatan_code: str | None,
    limit: int,
    offset: int,
) -> list[RowMapping]:
    """A page of the frozen list in rank order (listed first), scoped."""
    stmt = list_query(key=key, generation=generation, scope=scope, listed=listed, kecamatan_code=kecamatan_code)
    return list((await session.execute(stmt.limit(limit).offset(offset))).mappings().all())
