"""Queries of tahap, their generations and frozen lists (the bulk work is set-based)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, literal, select, text, true, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.dialect import analyze, insert_for, is_pg
from services.disbursement.payments.models import payment_line
from services.disbursement.programmes.eligibility import ranked_query
from services.disbursement.programmes.rules import RuleDefinition, list_hash_lines
from services.disbursement.scope import within_scope
from services.disbursement.tahap.models import tahap, tahap_generation, tahap_list
from shared.auth.principal import Principal

tl = tahap_list.c
pl = payment_line.c


async def get_tahap(session: AsyncSession, tahap_id: str) -> RowMapping | None:
    """One tahap."""
    return (await session.execute(select(tahap).where(tahap.c.id == tahap_id))).mappings().first()


async def list_tahap(session: AsyncSession, programme_code: str | None) -> list[RowMapping]:
    """Tahap, newest first."""
    stmt = select(tahap).order_by(tahap.c.created_at.desc())
    if programme_code:
        stmt = stmt.where(tahap.c.programme_code == programme_code)
    return list((await session.execute(stmt)).mappings().all())


async def insert_tahap(session: AsyncSession, values: dict[str, Any]) -> None:
    """Store a tahap."""
    await session.execute(tahap.insert().values(values))


async def guarded_update(
    session: AsyncSession, tahap_id: str, allowed: frozenset[str], values: dict[str, Any]
) -> RowMapping | None:
    """UPDATE … WHERE status IN allowed; returns the new row, or None if the tahap was not in an allowed state.

    On PostgreSQL the row lock also serialises concurrent calls: the second re-reads the row after the first commits.
    """
    stmt = (
        update(tahap)
        .where(tahap.c.id == tahap_id, tahap.c.status.in_(sorted(allowed)))
        .values(values)
        .returning(*tahap.c)
    )
    return (await session.execute(stmt)).mappings().first()


def _listed(tahap_id: str, generation: int, alias: Any = None) -> ColumnElement[bool]:
    c = (alias if alias is not None else tahap_list).c
    return and_(c.tahap_id == tahap_id, c.generation == generation, c.listed == true())


async def freeze_list(
    session: AsyncSession, *, tahap_id: str, generation: int, rule: RuleDefinition, as_of: date
) -> None:
    """Evaluate the rule over the whole read model and freeze the result in ONE INSERT … SELECT."""
    if is_pg(session):
        # The ranking sorts every family once; in memory that is several times faster than spilling to disk.
        await session.execute(text("SET LOCAL work_mem = '128MB'"))
    ranked = ranked_query(is_pg(session), rule, as_of).subquery("ranked")
    cols = [
        "tahap_id",
        "generation",
        "household_id",
        "kecamatan_code",
        "kelurahan_code",
        "desil",
        "inputs",
        "amount",
        "list_rank",
        "listed",
        "reason",
    ]
    source = select(
        literal(tahap_id),
        literal(generation),
        ranked.c.household_id,
        ranked.c.kecamatan_code,
        ranked.c.kelurahan_code,
        ranked.c.desil,
        ranked.c.inputs,
        ranked.c.amount,
        ranked.c.list_rank,
        ranked.c.listed,
        ranked.c.reason,
    )
    await session.execute(tahap_list.insert().from_select(cols, source))
    await analyze(session, "tahap_list", "household_status")


async def list_hash(session: AsyncSession, tahap_id: str, generation: int) -> str:
    """sha256 of the listed families in rank order ('rank|household_id|amount' lines)."""
    params = {"t": tahap_id, "g": generation}
    if is_pg(session):
        sql = text(
            "SELECT encode(sha256(convert_to(coalesce(string_agg("
            "list_rank::text || '|' || household_id || '|' || amount::text, E'\\n' ORDER BY list_rank), ''),"
            " 'UTF8')), 'hex') FROM tahap_list WHERE tahap_id = :t AND generation = :g AND listed"
        )
        return str((await session.execute(sql, params)).scalar_one())
    stmt = select(tl.list_rank, tl.household_id, tl.amount).where(_listed(tahap_id, generation)).order_by(tl.list_rank)
    digest = hashlib.sha256()
    first = True
    async for rank, hh, amount in await session.stream(stmt):
        digest.update((b"" if first else b"\n") + list_hash_lines([(rank, hh, amount)]).encode())
        first = False
    return digest.hexdigest()


async def list_totals(
    session: AsyncSession, tahap_id: str, generation: int, *, scope: Principal | None = None
) -> tuple[int, int]:
    """(families listed, total amount) of a generation, within `scope`'s wilayah when given."""
    stmt = select(func.count(), func.coalesce(func.sum(tl.amount), 0)).where(_listed(tahap_id, generation))
    if scope is not None:
        stmt = stmt.where(within_scope(tl.kelurahan_code, scope))
    count, total = (await session.execute(stmt)).one()
    return int(count), int(total)


def _diff_queries(tahap_id: str, generation: int) -> dict[str, Any]:
    cur = tahap_list.alias("cur")
    prev = tahap_list.alias("prev")
    same = and_(_listed(tahap_id, generation - 1, prev), prev.c.household_id == cur.c.household_id)
    back = and_(_listed(tahap_id, generation, cur), cur.c.household_id == prev.c.household_id)
    return {
        "added": select(cur.c.household_id).where(_listed(tahap_id, generation, cur), ~exists().where(same)),
        "removed": select(prev.c.household_id).where(_listed(tahap_id, generation - 1, prev), ~exists().where(back)),
        "changed": select(cur.c.household_id)
        .join(prev, prev.c.household_id == cur.c.household_id)
        .where(_listed(tahap_id, generation, cur), _listed(tahap_id, generation - 1, prev))
        .where(prev.c.amount != cur.c.amount),
    }


async def diff_counts(session: AsyncSession, tahap_id: str, generation: int) -> dict[str, int]:
    """added / removed / changed (amount) between a generation and the one before."""
    out = {}
    for name, query in _diff_queries(tahap_id, generation).items():
        sub = query.subquery()
        out[name] = int((await session.execute(select(func.count()).select_from(sub))).scalar_one())
    return out


async def diff_ids(session: AsyncSession, tahap_id: str, generation: int, limit: int) -> dict[str, list[str]]:
    """Up to `limit` household ids per kind of difference."""
    out = {}
    for name, query in _diff_queries(tahap_id, generation).items():
        sub = query.subquery()
        rows = await session.execute(select(sub.c.household_id).order_by(sub.c.household_id).limit(limit))
        out[name] = [r[0] for r in rows]
    return out


async def drop_old_generations(session: AsyncSession, tahap_id: str, keep_from: int) -> None:
    """Keep only the newest two generations of a tahap's list (current and the one its diff refers to)."""
    await session.execute(delete(tahap_list).where(tl.tahap_id == tahap_id, tl.generation < keep_from))


async def insert_generation(session: AsyncSession, values: dict[str, Any]) -> None:
    """Record one list generation."""
    await session.execute(tahap_generation.insert().values(values))


async def get_generation(session: AsyncSession, tahap_id: str, generation: int) -> RowMapping | None:
    """One generation record."""
    g = tahap_generation.c
    stmt = select(tahap_generation).where(g.tahap_id == tahap_id, g.generation == generation)
    return (await session.execute(stmt)).mappings().first()


async def sync_planned_lines(
    session: AsyncSession, *, tahap_id: str, programme_code: str, generation: int, now: datetime
) -> None:
    """One planned line per listed family (UNIQUE guards it); lines of families no longer listed go away."""
    cols = [
        "programme_code",
        "tahap_id",
        "household_id",
        "kecamatan_code",
        "kelurahan_code",
        "amount",
        "status",
        "version",
        "created_at",
        "updated_at",
    ]
    source = select(
        literal(programme_code),
        literal(tahap_id),
        tl.household_id,
        tl.kecamatan_code,
        tl.kelurahan_code,
        tl.amount,
        literal("planned"),
        literal(1),
        literal(now),
        literal(now),
    ).where(_listed(tahap_id, generation))
    ins = insert_for(session, payment_line).from_select(cols, source)
    ins = ins.on_conflict_do_update(
        index_elements=["programme_code", "tahap_id", "household_id"],
        set_={
            "amount": ins.excluded.amount,
            "kecamatan_code": ins.excluded.kecamatan_code,
            "kelurahan_code": ins.excluded.kelurahan_code,
            "updated_at": ins.excluded.updated_at,
        },
        where=and_(pl.status == "planned", pl.amount != ins.excluded.amount),
    )
    await session.execute(ins)
    await analyze(session, "payment_line")
    still = and_(_listed(tahap_id, generation), tl.household_id == pl.household_id)
    await session.execute(
        delete(payment_line).where(
            pl.tahap_id == tahap_id, pl.status.in_(["planned", "on_hold"]), ~exists().where(still)
        )
    )


async def delete_unsent_lines(session: AsyncSession, tahap_id: str) -> None:
    """A cancelled tahap never paid anything: its planned (or held) lines are removed."""
    await session.execute(delete(payment_line).where(pl.tahap_id == tahap_id, pl.status.in_(["planned", "on_hold"])))


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


async def list_page(
    session: AsyncSession,
    *,
    tahap_id: str,
    generation: int,
    scope: ColumnElement[bool] | Any,
    listed: bool | None,
    kecamatan_code: str | None,
    limit: int,
    offset: int,
) -> list[RowMapping]:
    """A page of the frozen list in rank order (listed first), scoped."""
    stmt = select(tahap_list).where(tl.tahap_id == tahap_id, tl.generation == generation, scope)
    if listed is not None:
        stmt = stmt.where(tl.listed == listed)
    if kecamatan_code:
        stmt = stmt.where(tl.kecamatan_code == kecamatan_code)
    stmt = stmt.order_by(tl.listed.desc(), tl.list_rank, tl.household_id).limit(limit).offset(offset)
    return list((await session.execute(stmt)).mappings().all())
