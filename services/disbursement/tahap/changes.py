"""Tahap-over-tahap report: who was added and removed per kecamatan, and why (set-based)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.scope import within_scope
from services.disbursement.tahap.repository import list_key
from services.disbursement.tahap.schemas import KecamatanChange
from services.disbursement.tahap_state.models import tahap_list
from services.disbursement.tahap_state.repository import listed_in
from shared.auth.principal import Principal


def _listed(alias: Any, key: int | None, row: RowMapping | None) -> Any:
    if key is None or row is None:
        return and_(alias.c.tahap_key.is_(None), alias.c.tahap_key.is_not(None))  # an empty previous list
    return listed_in(key, row["generation"], alias)


def _grouped(sub: Any) -> Any:
    # Grouping over a subquery's columns: a CASE with bind parameters repeated in GROUP BY would not match.
    return select(sub.c.k, sub.c.r, func.count()).group_by(sub.c.k, sub.c.r)


async def tahap_changes(
    session: AsyncSession, *, current: RowMapping, previous: RowMapping | None, principal: Principal
) -> list[KecamatanChange]:
    """Per kecamatan: previous, added, removed, current and the reasons; previous + added - removed = current.

    A family is keyed by (household, kecamatan): one that moved between kecamatan is removed from the old one
    (moved_out) and added to the new one (moved_in), so the identity holds in every kecamatan."""
    cur_key = await list_key(session, current["id"])
    prev_key = await list_key(session, previous["id"]) if previous is not None else None
    cur = tahap_list.alias("cur")
    prev = tahap_list.alias("prev")
    other = tahap_list.alias("other")
    totals: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"previous": 0, "added": 0, "removed": 0, "current": 0, "added_by_reason": {}, "removed_by_reason": {}}
    )

    for alias, key, list_row, name in ((prev, prev_key, previous, "previous"), (cur, cur_key, current, "current")):
        stmt = (
            select(alias.c.kecamatan_code, func.count())
            .where(_listed(alias, key, list_row), within_scope(alias.c.kelurahan_code, principal))
            .group_by(alias.c.kecamatan_code)
        )
        for kec, n in (await session.execute(stmt)).all():
            totals[kec][name] = int(n)

    # Added: on the current list, not on the previous one in the same kecamatan.
    moved_in = exists().where(
        _listed(other, prev_key, previous),
        other.c.household_id == cur.c.household_id,
        other.c.kecamatan_code != cur.c.kecamatan_code,
    )
    same_prev = exists().where(
        _listed(prev, prev_key, previous),
        prev.c.household_id == cur.c.household_id,
        prev.c.kecamatan_code == cur.c.kecamatan_code,
    )
    reason = case((moved_in, "moved_in"), else_="newly_eligible")
    added = (
        select(cur.c.kecamatan_code.label("k"), reason.label("r"))
        .where(_listed(cur, cur_key, current), ~same_prev, within_scope(cur.c.kelurahan_code, principal))
        .subquery()
    )
    for kec, why, n in (await session.execute(_grouped(added))).all():
        totals[kec]["added"] += int(n)
        totals[kec]["added_by_reason"][why] = int(n)

    # Removed: on the previous list, not on the current one in the same kecamatan; the reason is the current
    # evaluation's verdict on the family (desil_rose, deceased, over_quota, ...).
    same_cur = exists().where(
        _listed(cur, cur_key, current),
        cur.c.household_id == prev.c.household_id,
        cur.c.kecamatan_code == prev.c.kecamatan_code,
    )
    moved_out = exists().where(
        _listed(other, cur_key, current),
        other.c.household_id == prev.c.household_id,
        other.c.kecamatan_code != prev.c.kecamatan_code,
    )
    verdict = (
        select(other.c.reason)
        .where(
            other.c.tahap_key == cur_key,
            other.c.generation == current["generation"],
            other.c.household_id == prev.c.household_id,
        )
        .scalar_subquery()
    )
    why_removed = case((moved_out, "moved_out"), else_=func.coalesce(verdict, "not_in_registry"))
    removed = (
        select(prev.c.kecamatan_code.label("k"), why_removed.label("r"))
        .where(_listed(prev, prev_key, previous), ~same_cur, within_scope(prev.c.kelurahan_code, principal))
        .subquery()
    )
    for kec, why, n in (await session.execute(_grouped(removed))).all():
        totals[kec]["removed"] += int(n)
        totals[kec]["removed_by_reason"][why] = int(n)

    return [KecamatanChange(kecamatan_code=k, **v) for k, v in sorted(totals.items())]
