"""Queries of programmes and rule versions, and the set-based rule evaluations."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.programmes.eligibility import ranked_query
from services.disbursement.programmes.models import programme, rule_version
from services.disbursement.programmes.rules import RuleDefinition
from shared.db.dialect import is_pg

rule_versions = rule_version.c


async def list_programmes(session: AsyncSession) -> list[RowMapping]:
    """Every programme, by code."""
    return list((await session.execute(select(programme).order_by(programme.c.code))).mappings().all())


async def get_programme(session: AsyncSession, code: str) -> RowMapping | None:
    """One programme."""
    return (await session.execute(select(programme).where(programme.c.code == code))).mappings().first()


async def insert_programme(session: AsyncSession, values: dict[str, Any]) -> None:
    """Store a programme."""
    await session.execute(programme.insert().values(values))


async def list_rules(session: AsyncSession, code: str) -> list[RowMapping]:
    """A programme's rule versions, oldest first."""
    stmt = select(rule_version).where(rule_versions.programme_code == code).order_by(rule_versions.version)
    return list((await session.execute(stmt)).mappings().all())


async def get_rule(session: AsyncSession, code: str, version: int) -> RowMapping | None:
    """One rule version of a programme."""
    stmt = select(rule_version).where(rule_versions.programme_code == code, rule_versions.version == version)
    return (await session.execute(stmt)).mappings().first()


async def get_rule_by_id(session: AsyncSession, rule_id: int) -> RowMapping | None:
    """One rule version by id."""
    return (await session.execute(select(rule_version).where(rule_versions.id == rule_id))).mappings().first()


async def effective_rule(session: AsyncSession, code: str, day: date) -> RowMapping | None:
    """The newest rule version in force on `day`."""
    stmt = (
        select(rule_version)
        .where(
            rule_versions.programme_code == code,
            rule_versions.effective_from <= day,
            or_(rule_versions.effective_to.is_(None), rule_versions.effective_to > day),
        )
        .order_by(rule_versions.version.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).mappings().first()


async def next_rule_version(session: AsyncSession, code: str) -> int:
    """The version number a new rule of this programme gets."""
    current = (
        await session.execute(select(func.max(rule_versions.version)).where(rule_versions.programme_code == code))
    ).scalar()
    return int(current or 0) + 1


async def insert_rule(session: AsyncSession, values: dict[str, Any]) -> int:
    """Store a rule version; returns its id."""
    result = await session.execute(rule_version.insert().values(values).returning(rule_versions.id))
    return int(result.scalar_one())


async def dry_run_counts(
    session: AsyncSession, rule: RuleDefinition, as_of: date, scope: Any
) -> list[tuple[str, str, int, int]]:
    """(kecamatan, reason, families, amount) of a rule over the read model, ranked kota-wide, then scoped."""
    ranked = ranked_query(is_pg(session), rule, as_of, with_inputs=False).subquery("r")
    stmt = (
        select(ranked.c.kecamatan_code, ranked.c.reason, func.count(), func.coalesce(func.sum(ranked.c.amount), 0))
        .where(scope(ranked.c.kelurahan_code))
        .group_by(ranked.c.kecamatan_code, ranked.c.reason)
        .order_by(ranked.c.kecamatan_code, ranked.c.reason)
    )
    return [(r[0], r[1], int(r[2]), int(r[3])) for r in (await session.execute(stmt)).all()]


async def ranked_one(session: AsyncSession, rule: RuleDefinition, as_of: date, household_id: str) -> RowMapping | None:
    """One family's row of the kota-wide ranking (reason after quota, rank, amount, inputs)."""
    ranked = ranked_query(is_pg(session), rule, as_of).subquery("r")
    stmt = select(ranked).where(ranked.c.household_id == household_id)
    return (await session.execute(stmt)).mappings().first()
