"""Matching a staged external list against the registry by NIK and raising its flags, set-based.

Death list → `deceased_dukcapil` (detail: deceased_date, death_certificate_no) on the member, unless the entry
conflicts with the register (death before the member's birth, in the future, or a listed name that does not name
the member, compared normalised): then `death_record_conflict` (detail adds `conflict`) for a ground check by the
kecamatan's TKSK, so nobody is held forever on a death that can never be confirmed. Excluded-occupation
list → `excluded_occupation` with sub_kind pns/tni/polri/pejabat/bumn_bumd (detail: instansi). A flag is raised
on the member row of its family (subject_key = member id), once: an open flag of the same kind is left alone
(ON CONFLICT DO NOTHING against uq_flag_open), and one a person already confirmed or refuted is not raised again.
The families then follow the status rules (active → needs_verification) and get household.flagged events.
Rows whose NIK matches no active member are reported (reason nik.not_matched) and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, and_, bindparam, case, exists, func, insert, literal, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.domain.flags import BLOCKING_STATUSES, FlagKind, FlagStatus
from services.registry.families.changes import Actor
from services.registry.families.models import flag, member
from services.registry.imports.events import emit, record_flag_events
from services.registry.imports.list_parsing import ListKind
from services.registry.imports.list_rules import DeathConflict, names_match
from services.registry.imports.models import import_error, import_event, import_list_row
from services.registry.imports.sql import Dialect
from services.registry.imports.status import apply_status_rules
from shared.db.dialect import insert_on


@dataclass
class ListCounts:
    """What matching a list did."""

    matched: int = 0
    unmatched: int = 0
    flags_raised: int = 0
    conflicts: int = 0
    already_flagged: int = 0
    status_changed: int = 0
    events_emitted: int = 0


async def match_list(
    session: AsyncSession,
    *,
    import_id: str,
    kind: ListKind,
    source: str,
    actor: Actor,
    now: datetime,
    today: date,
) -> ListCounts:
    """Match the job's staged list rows by NIK, raise flags, apply status rules, emit events."""
    d = Dialect(session)
    counts = ListCounts()
    lr, m = import_list_row, member
    active = and_(m.c.nik == lr.c.nik, m.c.active.is_(True))
    mine = lr.c.import_id == import_id
    counts.matched = int((await session.execute(select(func.count()).where(mine, exists().where(active)))).scalar_one())
    unmatched = await session.execute(
        insert(import_error).from_select(
            ["import_id", "row_no", "field", "reason"],
            select(lr.c.import_id, lr.c.row_no, literal("nik", String), literal("nik.not_matched", String)).where(
                mine, ~exists().where(active)
            ),
        )
    )
    counts.unmatched = int(unmatched.rowcount or 0)  # type: ignore[attr-defined]
    if kind is ListKind.DEATH:
        await _check_names(session, import_id=import_id)
        conflict = _death_conflict(today)
        common = ("deceased_date", lr.c.deceased_date, "death_certificate_no", lr.c.certificate_no)
        # A death already recorded needs no flag.
        alive = m.c.deceased.is_(False)
        counts.flags_raised = await _raise(
            session,
            import_id=import_id,
            flag_kind=FlagKind.DECEASED_DUKCAPIL.value,
            detail=d.obj(*common, "import_id", import_id),
            sub_kind=literal(None, String),
            where=and_(alive, ~conflict),
            source=source,
            now=now,
        )
        counts.conflicts = await _raise(
            session,
            import_id=import_id,
            flag_kind=FlagKind.DEATH_RECORD_CONFLICT.value,
            detail=d.obj(*common, "conflict", _conflict_reason(today), "import_id", import_id),
            sub_kind=literal(None, String),
            where=and_(alive, conflict),
            source=source,
            now=now,
        )
        counts.flags_raised += counts.conflicts
    else:
        counts.flags_raised = await _raise(
            session,
            import_id=import_id,
            flag_kind=FlagKind.EXCLUDED_OCCUPATION.value,
            detail=d.obj("instansi", lr.c.instansi, "import_id", import_id),
            sub_kind=lr.c.category,
            where=literal(True),
            source=source,
            now=now,
        )
    counts.already_flagged = counts.matched - counts.flags_raised
    flagged = select(import_event.c.family_id).where(import_event.c.import_id == import_id)
    counts.status_changed = await apply_status_rules(session, import_id=import_id, family_ids=flagged, today=today)
    counts.events_emitted = await emit(
        session, import_id=import_id, actor=actor, now=now, today=today, reason=f"{kind.value} list import {import_id}"
    )
    return counts


def _death_conflict(today: date) -> Any:
    """A staged death entry that contradicts the member it matched (see rules.death_conflicts)."""
    lr, m = import_list_row, member
    return or_(lr.c.deceased_date < m.c.birth_date, lr.c.deceased_date > today, lr.c.name_mismatch.is_(True))


def _conflict_reason(today: date) -> Any:
    """The first conflict of an entry, as a DeathConflict code (the flag's detail)."""
    lr, m = import_list_row, member
    return case(
        (lr.c.deceased_date < m.c.birth_date, DeathConflict.BEFORE_BIRTH.value),
        (lr.c.deceased_date > today, DeathConflict.FUTURE.value),
        else_=DeathConflict.NAME_MISMATCH.value,
    )


async def _check_names(session: AsyncSession, *, import_id: str) -> None:
    """Mark the job's named death entries whose name names no active member with that NIK.

    Names are compared by `rules.normalise_name` (titles, punctuation, accents), which SQL cannot say the same
    way on both databases; only entries that carry a name are read, a death list is thousands of rows a month."""
    lr, m = import_list_row, member
    rows = await session.execute(
        select(lr.c.row_no, lr.c.name, m.c.name.label("registered"))
        .select_from(lr.join(m, and_(m.c.nik == lr.c.nik, m.c.active.is_(True))))
        .where(lr.c.import_id == import_id, lr.c.name.is_not(None))
    )
    matched: dict[int, bool] = {}
    for row_no, listed, registered in rows.all():
        matched[row_no] = matched.get(row_no, False) or names_match(listed, registered)
    mismatched = [r for r, ok in matched.items() if not ok]
    if mismatched:
        await session.execute(
            update(lr).where(lr.c.import_id == import_id, lr.c.row_no == bindparam("b_row")).values(name_mismatch=True),
            [{"b_row": r} for r in mismatched],
        )


async def _raise(
    session: AsyncSession,
    *,
    import_id: str,
    flag_kind: str,
    detail: Any,
    sub_kind: Any,
    where: Any,
    source: str,
    now: datetime,
) -> int:
    """Raise `flag_kind` on every active member matched by the job's rows where `where` holds, once; record the
    flagged events; returns how many were raised."""
    d = Dialect(session)
    lr, m = import_list_row, member
    active = and_(m.c.nik == lr.c.nik, m.c.active.is_(True))
    mine = lr.c.import_id == import_id
    decided = exists().where(
        flag.c.family_id == m.c.family_id,
        flag.c.subject_key == m.c.id,
        flag.c.kind == flag_kind,
        flag.c.status.in_(BLOCKING_STATUSES),
    )
    stmt = (
        insert_on(d.pg, flag)
        .from_select(
            ["family_id", "member_id", "subject_key", "kind", "sub_kind", "status", "source", "detail", "raised_at"],
            select(
                m.c.family_id,
                m.c.id,
                m.c.id,
                literal(flag_kind, String),
                sub_kind,
                literal(FlagStatus.OPEN.value, String),
                literal(source, String),
                detail,
                literal(now, flag.c.raised_at.type),
            )
            .select_from(lr.join(m, active))
            .where(mine, where, ~decided)
            .order_by(m.c.family_id, lr.c.row_no),
        )
        .on_conflict_do_nothing(
            index_elements=["family_id", "subject_key", "kind"], index_where=text("status = 'open'")
        )
        .returning(flag.c.id, flag.c.family_id, flag.c.member_id, flag.c.sub_kind)
    )
    return await record_flag_events(
        session,
        import_id=import_id,
        change=stmt,
        raised=True,
        payload=lambda f: (
            {
                "type": "flag_raised",
                "flag_id": f.id,
                "kind": flag_kind,
                "status": FlagStatus.OPEN.value,
                "source": source,
                "sub_kind": f.sub_kind,  # left out when None
            },
            {"flag_id": f.id, "kind": flag_kind, "sub_kind": f.sub_kind, "source": source},
        ),
        order=lambda f: (f.family_id, f.id),
    )
