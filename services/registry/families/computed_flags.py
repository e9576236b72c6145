"""The flags a family's writes read and refresh: the set-based computation of the flags the registry derives from
its own data, and the open and confirmed kinds per family that decide its status.

They sit in the families feature because every family change runs them; the flags feature (listing, confirming,
refuting) is above families."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, CompoundSelect, Select
from sqlalchemy.sql.elements import BindParameter

from services.registry.domain.flags import BLOCKING_STATUSES, COMPUTED_KINDS, SYSTEM_SOURCE, FlagKind, FlagStatus
from services.registry.families.models import family, flag, member, recipient_expr
from shared.db.dialect import is_pg, json_object
from shared.db.expressions import one_of


@dataclass(frozen=True)
class FlagDelta:
    """One flag the computation raised or cleared."""

    flag_id: int
    family_id: str
    member_id: str | None
    kind: str
    change: str  # "raised" or "cleared"


def scope_of() -> CompoundSelect[Any]:
    """The families whose computed flags a change can affect: the changed ones (parameter `ids`), every family
    sharing a NIK with them, every family sharing their head NIK, plus those sharing the NIKs / head NIKs the
    change removed (parameters `niks`, `head_niks`)."""
    # Private aliases: the scope is nested in queries over member/family and must not correlate with them.
    sm, sm2, sf, sf2 = member.alias("sm"), member.alias("sm2"), family.alias("sf"), family.alias("sf2")
    ids: BindParameter[Any] = bindparam("ids", expanding=True)
    return union(
        select(sf.c.id.label("id")).where(sf.c.id.in_(ids)),
        select(sm.c.family_id).where(
            or_(
                sm.c.nik.in_(select(sm2.c.nik).where(sm2.c.family_id.in_(ids))),
                sm.c.nik.in_(bindparam("niks", expanding=True)),
            )
        ),
        select(sf.c.id).where(
            or_(
                sf.c.head_nik.in_(select(sf2.c.head_nik).where(sf2.c.id.in_(ids))),
                sf.c.head_nik.in_(bindparam("head_niks", expanding=True)),
            )
        ),
    )


def computed_candidates(pg: bool, scope: CompoundSelect[Any]) -> Select[Any]:
    """Every computed flag that should be open for families in `scope`, as flag rows (one SELECT)."""
    m2, f2 = member.alias("m2"), family.alias("f2")
    in_scope = member.c.family_id.in_(scope)
    # The CASE keeps the cast away from malformed NIKs (WHERE conditions have no evaluation order).
    nik_sex = case(
        (member.c.nik_issue.is_not(None), None),
        (cast(func.substr(member.c.nik, 7, 2), Integer) > 40, "P"),
        else_="L",
    )
    other_families = (
        select(func.count(func.distinct(m2.c.family_id)))
        .where(m2.c.nik == member.c.nik, m2.c.family_id != member.c.family_id)
        .scalar_subquery()
    )
    other_heads = select(func.count()).where(f2.c.head_nik == family.c.head_nik, f2.c.id != family.c.id)

    def member_flag(kind: str, detail: ColumnElement[Any]) -> Any:
        return [
            member.c.family_id.label("family_id"),
            member.c.id.label("member_id"),
            member.c.id.label("subject_key"),
            literal(kind, String).label("kind"),
            detail.label("detail"),
        ]

    invalid = select(*member_flag(FlagKind.INVALID_NIK, json_object(pg, "reason", member.c.nik_issue))).where(
        in_scope, member.c.active, member.c.nik_issue.is_not(None)
    )
    mismatch = select(
        *member_flag(FlagKind.SEX_NIK_MISMATCH, json_object(pg, "declared_sex", member.c.sex, "nik_sex", nik_sex))
    ).where(in_scope, member.c.active, member.c.nik_issue.is_(None), member.c.sex.is_not(None), member.c.sex != nik_sex)
    # Every row counts, whatever the state of the member or family (DOMAIN §7: duplicates hide in old records).
    duplicate_nik = select(
        *member_flag(FlagKind.DUPLICATE_NIK, json_object(pg, "other_families", other_families))
    ).where(in_scope, exists().where(m2.c.nik == member.c.nik, m2.c.family_id != member.c.family_id))
    # One person heading two KKs: the same household registered twice (No. KK itself is unique).
    duplicate_kk = select(
        family.c.id.label("family_id"),
        null().label("member_id"),
        literal("", String).label("subject_key"),
        literal(FlagKind.DUPLICATE_KK.value, String).label("kind"),
        json_object(pg, "other_families", other_heads.scalar_subquery()).label("detail"),
    ).where(family.c.id.in_(scope), exists(other_heads.with_only_columns(literal(1))))
    # The person who receives the money died: payments wait until a recipient_change names another (issue 12).
    # Only while someone is left to take over: a family with no living member is inactive (all deceased).
    recipient, survivor = member.alias("recipient"), member.alias("survivor")
    recipient_deceased = (
        select(
            family.c.id.label("family_id"),
            recipient.c.id.label("member_id"),
            recipient.c.id.label("subject_key"),
            literal(FlagKind.RECIPIENT_DECEASED.value, String).label("kind"),
            json_object(pg, "member_id", recipient.c.id).label("detail"),
        )
        .select_from(family.join(recipient, recipient.c.id == recipient_expr()))
        .where(
            family.c.id.in_(scope),
            recipient.c.active,
            recipient.c.deceased,
            exists().where(survivor.c.family_id == family.c.id, survivor.c.active, survivor.c.deceased.is_(False)),
        )
    )
    return union_all(invalid, mismatch, duplicate_nik, duplicate_kk, recipient_deceased).subquery("candidate").select()


async def refresh_computed_flags(
    session: AsyncSession,
    *,
    family_ids: Sequence[str],
    niks: Iterable[str] = (),
    head_niks: Iterable[str] = (),
    now: datetime,
) -> list[FlagDelta]:
    """Raise the computed flags now true and clear the open ones no longer true, set-based.

    `niks`/`head_niks` are identifiers the change removed, so families that shared them get their duplicate
    flags cleared."""
    raise_stmt, clear_stmt = _refresh_statements(is_pg(session))
    params = {"ids": list(family_ids), "niks": list(niks), "head_niks": list(head_niks), "now": now}
    raised = [
        FlagDelta(r.id, r.family_id, r.member_id, r.kind, "raised") for r in await session.execute(raise_stmt, params)
    ]
    cleared = [
        FlagDelta(r.id, r.family_id, r.member_id, r.kind, "cleared") for r in await session.execute(clear_stmt, params)
    ]
    return raised + cleared


@cache
def _refresh_statements(pg: bool) -> tuple[Any, Any]:
    """The INSERT that raises and the UPDATE that clears computed flags (parameters: ids, niks, head_niks, now).

    Every family write runs both: built once, they skip a construction and cache-key pass that cost more CPU
    than the write itself (create a family: 34-35 ms of registry CPU before, 10-12 ms after)."""
    now = bindparam("now", type_=flag.c.raised_at.type)
    scope = scope_of()
    cand = computed_candidates(pg, scope).subquery("c")
    blocked = (
        select(literal(1))
        .select_from(flag)
        .where(
            flag.c.family_id == cand.c.family_id,
            flag.c.subject_key == cand.c.subject_key,
            flag.c.kind == cand.c.kind,
            flag.c.status.in_(BLOCKING_STATUSES),
        )
    )
    raise_stmt = (
        insert(flag)
        .from_select(
            ["family_id", "member_id", "subject_key", "kind", "status", "source", "detail", "raised_at"],
            select(
                cand.c.family_id,
                cand.c.member_id,
                cand.c.subject_key,
                cand.c.kind,
                literal(FlagStatus.OPEN.value, String),
                literal(SYSTEM_SOURCE, String),
                cand.c.detail,
                now,
            ).where(~exists(blocked)),
        )
        .returning(flag.c.id, flag.c.family_id, flag.c.member_id, flag.c.kind)
    )
    still = computed_candidates(pg, scope).subquery("s")
    clear_stmt = (
        update(flag)
        .where(
            flag.c.status == FlagStatus.OPEN,
            flag.c.source == SYSTEM_SOURCE,
            flag.c.kind.in_(COMPUTED_KINDS),
            flag.c.family_id.in_(scope),
            ~exists(
                select(literal(1))
                .select_from(still)
                .where(
                    still.c.family_id == flag.c.family_id,
                    still.c.subject_key == flag.c.subject_key,
                    still.c.kind == flag.c.kind,
                )
            ),
        )
        .values(
            status=FlagStatus.CLEARED,
            resolved_by=SYSTEM_SOURCE,
            resolved_at=now,
            resolution_reason="the data no longer shows this",
        )
        .returning(flag.c.id, flag.c.family_id, flag.c.member_id, flag.c.kind)
    )
    return raise_stmt, clear_stmt


async def flag_kinds_by_family(
    session: AsyncSession, family_ids: Sequence[str]
) -> dict[str, tuple[set[str], set[str]]]:
    """(open kinds, confirmed kinds) per family."""
    out: dict[str, tuple[set[str], set[str]]] = {fid: (set(), set()) for fid in family_ids}
    rows = await session.execute(
        select(flag.c.family_id, flag.c.kind, flag.c.status)
        .where(
            one_of(session, flag.c.family_id, family_ids),
            flag.c.status.in_([FlagStatus.OPEN, FlagStatus.CONFIRMED]),
        )
        .distinct()
    )
    for fid, kind, status in rows:
        out[fid][0 if status == FlagStatus.OPEN else 1].add(kind)
    return out


def open_flag_exists(kind: str | None = None) -> ColumnElement[bool]:
    """SQL: the family row has an open flag (of `kind`)."""
    cond = and_(flag.c.family_id == family.c.id, flag.c.status == FlagStatus.OPEN)
    if kind is not None:
        cond = and_(cond, flag.c.kind == kind)
    return exists().where(cond)
