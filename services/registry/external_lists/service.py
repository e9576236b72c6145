"""Matching a staged external list against the registry by NIK and raising its flags, set-based.

Death list → `deceased_dukcapil` (detail: deceased_date, death_certificate_no) on the member; excluded-occupation
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

from sqlalchemy import String, and_, exists, func, insert, literal, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.external_lists.parsing import ListKind
from services.registry.families.changes import Actor
from services.registry.families.models import member
from services.registry.flags.models import flag
from services.registry.flags.rules import BLOCKING_STATUSES, FlagKind, FlagStatus
from services.registry.imports.events import emit, record_flag_events
from services.registry.imports.models import import_error, import_event, import_list_row
from services.registry.imports.sql import Dialect
from services.registry.imports.status import apply_status_rules

FLAG_KIND = {ListKind.DEATH: FlagKind.DECEASED_DUKCAPIL, ListKind.EXCLUDED: FlagKind.EXCLUDED_OCCUPATION}


@dataclass
class ListCounts:
    """What matching a list did."""

    matched: int = 0
    unmatched: int = 0
    flags_raised: int = 0
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
    flag_kind = FLAG_KIND[kind].value
    sub_kind: Any
    eligible: Any
    if kind is ListKind.DEATH:
        detail = d.obj(
            "deceased_date", lr.c.deceased_date, "death_certificate_no", lr.c.certificate_no, "import_id", import_id
        )
        sub_kind = literal(None, String)
        # A death already recorded needs no flag.
        eligible = m.c.deceased.is_(False)
    else:
        detail = d.obj("instansi", lr.c.instansi, "import_id", import_id)
        sub_kind = lr.c.category
        eligible = literal(True)
    decided = exists().where(
        flag.c.family_id == m.c.family_id,
        flag.c.subject_key == m.c.id,
        flag.c.kind == flag_kind,
        flag.c.status.in_(BLOCKING_STATUSES),
    )
    insert_fn = postgresql.insert if d.pg else sqlite.insert
    stmt = (
        insert_fn(flag)
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
            .where(mine, eligible, ~decided)
            .order_by(m.c.family_id, lr.c.row_no),
        )
        .on_conflict_do_nothing(
            index_elements=["family_id", "subject_key", "kind"], index_where=text("status = 'open'")
        )
        .returning(flag.c.id, flag.c.family_id, flag.c.member_id, flag.c.sub_kind)
    )
    counts.flags_raised = await record_flag_events(
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
    counts.already_flagged = counts.matched - counts.flags_raised
    flagged = select(import_event.c.family_id).where(import_event.c.import_id == import_id)
    counts.status_changed = await apply_status_rules(session, import_id=import_id, family_ids=flagged, today=today)
    counts.events_emitted = await emit(
        session, import_id=import_id, actor=actor, now=now, today=today, reason=f"{kind.value} list import {import_id}"
    )
    return counts
