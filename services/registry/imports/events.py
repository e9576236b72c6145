"""From a job's `import_event` rows (and its new families' `registered` events) to versions, history rows and
outbox events, set-based.

Each family's events get consecutive aggregate versions after its current one, in the order they were recorded.
Every event of one job carries the family's state at the end of the job (a read model guarded by
aggregate_version ends in the same state whichever of them it applies last). The payload is built in SQL with
the same rules as `families.state.household_state` (a test compares the two); `household_sql` builds it for any set
of families, which is how a republish (services/registry/republish) sends the current state again."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Integer,
    String,
    case,
    cast,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    union,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.database import messaging
from services.registry.domain.flags import FlagStatus
from services.registry.families.changes import OUTBOX, Actor
from services.registry.families.models import family, family_history, flag, member
from services.registry.families.rules import Disability, SchoolStatus
from services.registry.imports.models import FAMILY_FIELDS, SOURCE, import_event, import_family
from services.registry.imports.sql import Dialect
from services.registry.imports.staging import analyze
from shared.context import current_correlation_id, request_id_var
from shared.events.household import Composition, HouseholdEventType
from shared.events.topics import REGISTRY_HOUSEHOLD
from shared.privacy.digest import digest_sql

outbox = messaging.outbox
REGISTERED = "registered"


def years_before(day: date, years: int) -> date:
    """The date `years` before `day` (29 Feb → 28 Feb): born on or before it ⇔ aged at least `years`."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


async def record_events(session: AsyncSession, rows: Iterable[dict[str, Any]]) -> int:
    """Append events computed in Python (flag deltas, status changes); returns how many."""
    batch = list(rows)
    if batch:
        await session.execute(insert(import_event), batch)
    return len(batch)


FlagPayload = Callable[[Any], tuple[dict[str, Any], dict[str, Any] | None]]


async def record_flag_events(
    session: AsyncSession,
    *,
    import_id: str,
    change: Any,
    raised: bool,
    payload: FlagPayload,
    order: Callable[[Any], tuple[Any, ...]],
) -> int:
    """Run `change` (an INSERT or UPDATE of flags RETURNING at least id, family_id, member_id) and record a
    flagged (`raised`) or flag_resolved event per flag it returns, in `order`; returns how many.

    `payload(flag)` gives the event's change and after (None: no after) as key → value over the returned
    columns (`flag.id`, ...) and constants; a change key whose value is None is left out. On PostgreSQL this is
    one statement, the change as a data-modifying CTE feeding `import_event`, so a city's flags never pass
    through the importer (as rows and event dicts they grew it by 1.5 KB a flag). SQLite has no such CTE: the
    rows come back and are recorded from here."""
    action = "flag_raised" if raised else "flag_cleared"
    event_type = (HouseholdEventType.FLAGGED if raised else HouseholdEventType.FLAG_RESOLVED).value
    d = Dialect(session)
    if d.pg:
        rows = change.cte("changed")
        change_pairs, after_pairs = payload(rows.c)
        after = cast(null(), JSON) if after_pairs is None else d.obj(*[x for kv in after_pairs.items() for x in kv])
        result = await session.execute(
            insert(import_event).from_select(
                ["import_id", "family_id", "member_id", "event_type", "action", "change", "after"],
                select(
                    literal(import_id, String),
                    rows.c.family_id,
                    rows.c.member_id,
                    literal(event_type, String),
                    literal(action, String),
                    func.json_strip_nulls(d.obj(*[x for kv in change_pairs.items() for x in kv])),
                    after,
                ).order_by(*order(rows.c)),
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
    returned = sorted((await session.execute(change)).all(), key=order)
    events = []
    for r in returned:
        change_values, after_values = payload(r)
        events.append(
            {
                "import_id": import_id,
                "family_id": r.family_id,
                "member_id": r.member_id,
                "event_type": event_type,
                "action": action,
                "change": {k: v for k, v in change_values.items() if v is not None},
                "before": None,
                "after": after_values,
            }
        )
    return await record_events(session, events)


def _new_families(import_id: str) -> Any:
    """The job's new families (import_family rows to insert): each gets a `registered` event from `emit`."""
    return (import_family.c.import_id == import_id) & (import_family.c.action == "insert")


@dataclass(frozen=True)
class HouseholdSql:
    """Household event payloads in SQL: per-family subqueries (member counts, NIK digests and head, open and
    confirmed flag kinds) keyed by `family_id`, and `data(change)`, the payload as JSON text over `family` and them
    (a statement selects from `join(...)`)."""

    comp: Any
    open_f: Any
    confirmed_f: Any
    data: Callable[[Any], Any]

    def join(self, base: Any, family_id: Any) -> Any:
        """`base` (which has `family` in it) with every subquery outer-joined on `family_id`."""
        for sub in (self.comp, self.open_f, self.confirmed_f):
            base = base.outerjoin(sub, sub.c.family_id == family_id)
        return base


def household_sql(session: AsyncSession, today: date, families: Any | None) -> HouseholdSql:
    """The payload SQL of the families `families` selects (a SELECT of family ids; None: every family, no filter:
    the test of a hash of 250k ids on every member costs more than it saves)."""
    d = Dialect(session)

    def job_filter(family_id: Any) -> list[Any]:
        return [] if families is None else [family_id.in_(families)]

    # Everyone on the KK with their keyed NIK digest (as `families.state.load_facts`, computed once a member) and
    # the family's head NIK, for one aggregate per family below: member counts, the composition, the digests and
    # `recipient_expr`'s head. One pass over the members in family order (a merge join with `family` on both
    # keys) instead of a hash aggregate for the counts, a sorted one for the digests and a correlated probe per
    # event for the head: 2.4 s instead of 3.9 s for a city's 950,000 members.
    listed = (
        select(
            member.c.family_id,
            member.c.id,
            member.c.nik,
            member.c.deceased,
            member.c.birth_date,
            member.c.school_status,
            member.c.disability,
            member.c.pregnant,
            family.c.head_nik,
            digest_sql(session, member.c.nik).label("digest"),
        )
        .select_from(member.join(family, family.c.id == member.c.family_id))
        .where(member.c.active.is_(True), *job_filter(member.c.family_id))
    )
    if not d.pg:  # SQLite's json_group_array keeps the rows' order (PostgreSQL's aggregate sorts by itself)
        listed = listed.order_by(member.c.family_id, literal_column("digest"))
    m = listed.subquery("listed")
    living = m.c.deceased.is_(False)

    def count_if(cond: Any) -> Any:
        # FILTER, not sum(CASE …): a third cheaper over every member of a city-size job. Living members only.
        return func.count().filter(living & cond)

    children = m.c.birth_date.is_not(None) & (m.c.birth_date <= today) & (m.c.birth_date > years_before(today, 7))
    comp = (
        select(
            m.c.family_id.label("family_id"),
            # Everyone on the KK (a registered event's `members`), then the living (the composition).
            func.count().label("listed"),
            func.count().filter(living).label("members"),
            count_if(children).label("children_0_6"),
            count_if(m.c.school_status == SchoolStatus.SD.value).label("school_sd"),
            count_if(m.c.school_status == SchoolStatus.SMP.value).label("school_smp"),
            count_if(m.c.school_status == SchoolStatus.SMA.value).label("school_sma"),
            count_if(m.c.birth_date <= years_before(today, 70)).label("elderly_70"),
            count_if(m.c.disability == Disability.SEVERE.value).label("disabled_severe"),
            count_if(m.c.pregnant.is_(True)).label("pregnant"),
            d.array_agg(m.c.digest).label("digests"),
            # `recipient_expr`'s head: the active member holding the family's head NIK (the lowest id if several).
            func.min(m.c.id).filter(m.c.nik == m.c.head_nik).label("head_id"),
        )
        .group_by(m.c.family_id)
        .subquery("comp")
    )

    def kinds(status: str, name: str) -> Any:
        pairs = (
            select(flag.c.family_id, flag.c.kind)
            .where(flag.c.status == status, *job_filter(flag.c.family_id))
            .distinct()
            .order_by(flag.c.family_id, flag.c.kind)
            .subquery(f"{name}_pairs")
        )
        return (
            select(pairs.c.family_id.label("family_id"), d.array_agg(pairs.c.kind).label("kinds"))
            .group_by(pairs.c.family_id)
            .subquery(name)
        )

    open_f, confirmed_f = kinds(FlagStatus.OPEN, "open_f"), kinds(FlagStatus.CONFIRMED, "conf_f")
    zero = literal(0, Integer)
    # The event schema's own field list: a count added there and not here fails at `comp.c[col]`.
    composition = d.obj_text(*[x for col in Composition.model_fields for x in (col, func.coalesce(comp.c[col], zero))])
    return HouseholdSql(
        comp,
        open_f,
        confirmed_f,
        lambda change: d.obj_text(
            "household_id",
            family.c.id,
            "kecamatan_code",
            family.c.kecamatan_code,
            "kelurahan_code",
            family.c.kelurahan_code,
            "data_status",
            family.c.data_status,
            "status_reason",
            family.c.status_reason,
            "desil",
            family.c.desil,
            "desil_period",
            family.c.desil_period,
            "recipient_member_id",
            func.coalesce(family.c.recipient_member_id, comp.c.head_id),
            "open_flags",
            d.embed(func.coalesce(open_f.c.kinds, d.empty_array())),
            "confirmed_flags",
            d.embed(func.coalesce(confirmed_f.c.kinds, d.empty_array())),
            "composition",
            composition,
            "member_digests",
            d.embed(func.coalesce(comp.c.digests, d.empty_array())),
            "change",
            change,
        ),
    )


def _payload(
    session: AsyncSession, import_id: str, today: date, *, whole_registry: bool, new_families: bool
) -> HouseholdSql:
    families_of_job: Any = select(import_event.c.family_id).where(import_event.c.import_id == import_id)
    if new_families:
        families_of_job = union(families_of_job, select(import_family.c.family_id).where(_new_families(import_id)))
    else:
        families_of_job = families_of_job.distinct()
    # A first import's families are the whole registry: no filter.
    return household_sql(session, today, None if whole_registry else families_of_job)


async def emit(
    session: AsyncSession,
    *,
    import_id: str,
    actor: Actor,
    now: datetime,
    today: date,
    reason: str,
    whole_registry: bool = False,
    new_families: bool = False,
) -> int:
    """Write history rows and outbox events for the job's events, then bump the families' versions.

    The events are the job's recorded ones (`import_event`) and, with `new_families`, a `registered` event per
    new family of an extract (`import_family` rows to insert), built here rather than recorded first (writing
    and reading back a city's worth of them cost 2 s). A registered event is its family's insert, stored at
    version 1: it is counted, not added, so the version UPDATE only groups the other events. `whole_registry`:
    every family of the registry is one of the job's (a first import), so member counts need no filter."""
    d = Dialect(session)
    await analyze(session, import_event)
    ie, fi = import_event, import_family
    mine = ie.c.import_id == import_id

    def events(*columns: str, registered: dict[str, Any]) -> Any:
        """`ord`, `id` (their order), `family_id`, the `columns` and `seq`: the version is the family's stored one
        plus `seq`. Registered events come first (ord 0, seq 0); the recorded ones are numbered per family after
        them (or after the stored version) by a window over those few rows only: numbering every event of a
        city (sorting 260,000 rows, in both statements) cost 0.4 s a statement."""
        # Only the columns a statement needs: rows under a sort are carried whole through it and the joins.
        recorded = select(
            literal(1, Integer).label("ord"),
            ie.c.id,
            ie.c.family_id,
            *[ie.c[c].label(c) for c in columns],
            func.row_number().over(partition_by=ie.c.family_id, order_by=ie.c.id).label("seq"),
        ).where(mine)
        if not new_families:
            return recorded.subquery("ev")
        first = select(
            literal(0, Integer).label("ord"),
            registered.get("id", literal(0, Integer)).label("id"),
            fi.c.family_id,
            *[registered[c].label(c) for c in columns],
            literal(0, Integer).label("seq"),
        ).where(_new_families(import_id))
        return union_all(first, recorded).subquery("ev")

    ev = events(
        "member_id",
        "action",
        "before",
        "after",
        registered={
            "member_id": null(),
            "action": literal(REGISTERED, String),
            "before": cast(null(), JSON),
            "after": d.obj(*[x for c in FAMILY_FIELDS for x in (c, fi.c[c])]),
        },
    )
    version = family.c.version + ev.c.seq
    await session.execute(
        insert(family_history).from_select(
            [
                "family_id",
                "member_id",
                "version",
                "action",
                "actor",
                "actor_role",
                "at",
                "reason",
                "before",
                "after",
                "request_id",
            ],
            select(
                ev.c.family_id,
                ev.c.member_id,
                version,
                ev.c.action,
                literal(actor.subject, String),
                literal(actor.role, String),
                literal(now, family_history.c.at.type),
                literal(reason, String),
                ev.c.before,
                ev.c.after,
                literal(request_id_var.get(), String),
            )
            .select_from(ev.join(family, family.c.id == ev.c.family_id))
            .order_by(ev.c.ord, ev.c.id),
        )
    )
    payload = _payload(session, import_id, today, whole_registry=whole_registry, new_families=new_families)
    ev = events(
        "event_type",
        "change",
        registered={
            # Numbered without a sort: an event id only needs to be unique within the job and kind.
            "id": func.row_number().over(),
            "event_type": literal(HouseholdEventType.REGISTERED.value, String),
            "change": cast(null(), JSON),
        },
    )
    version = family.c.version + ev.c.seq
    listed = func.coalesce(payload.comp.c.listed, 0)
    change = d.obj_or(
        ev.c.ord == 0,
        ("type", REGISTERED, "source", SOURCE, "import_id", import_id, "members", listed),
        ev.c.change,
    )
    emitted = await OUTBOX.add_selected(
        session,
        select(
            case(
                (ev.c.ord == 0, d.job_uuid(import_id, ev.c.id, REGISTERED)),
                else_=d.job_uuid(import_id, ev.c.id),
            ).label("event_id"),
            literal(REGISTRY_HOUSEHOLD, String).label("topic"),
            ev.c.event_type.label("event_type"),
            literal(1, Integer).label("schema_version"),
            ev.c.family_id.label("subject"),
            version.label("aggregate_version"),
            literal(now, outbox.c.occurred_at.type).label("occurred_at"),
            literal(now, outbox.c.recorded_at.type).label("recorded_at"),
            literal(current_correlation_id() or f"import-{import_id}", String).label("correlation_id"),
            payload.data(change).label("data"),
        )
        .select_from(payload.join(ev.join(family, family.c.id == ev.c.family_id), ev.c.family_id))
        .order_by(ev.c.ord, ev.c.id),
    )
    counts = select(ie.c.family_id, func.count().label("n")).where(mine).group_by(ie.c.family_id).subquery("n")
    await session.execute(
        update(family)
        .where(family.c.id == counts.c.family_id)
        .values(version=family.c.version + counts.c.n, updated_at=now, updated_by=actor.subject)
    )
    return emitted
