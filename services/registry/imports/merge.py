"""The set-based merge of a staged extract into families, members, desil snapshots, flags and events.

Order of work (one transaction, the caller's):
1. set aside (`quarantine`: to the correction queue, never the whole family) rows the file contradicts itself
   on: conflicting copies of a KK, a NIK twice (it stays where the registry has it, else on the first KK), a
   second head, family columns differing between rows;
2. one `import_family` row per No. KK: existing household id or a new one; set aside rows whose NIK is active
   in a family the file does not mention (the registry allows one active KK per person);
3. classify families (insert / update / same) by comparing the imported columns with the stored ones;
4. write: new families, changed family columns, members gone from their KK (deactivated), changed or moved
   members, new members, desil (snapshot + current value when newest);
5. computed flags for the changed families (`imports.flags`: the rules of refresh_computed_flags), status
   rules for the families whose flags or members moved;
6. events (`events.emit`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from services.registry.desil.models import desil_snapshot
from services.registry.families.changes import Actor
from services.registry.families.models import family, family_history, flag, member
from services.registry.imports.events import emit
from services.registry.imports.extract import HEAD
from services.registry.imports.flags import refresh_import_flags
from services.registry.imports.models import (
    FAMILY_FIELDS,
    SOURCE,
    import_bad_row,
    import_error,
    import_event,
    import_family,
    import_row,
)
from services.registry.imports.quarantine import (
    DUPLICATE_NIK_RULE,
    HEAD_ROW_RULE,
    flag_queued_families,
    quarantine_rows_with_errors,
    queue_corrections,
    set_aside_kk_copies,
)
from services.registry.imports.sql import Dialect
from services.registry.imports.staging import analyze, create_indexes, drop_indexes
from services.registry.imports.status import apply_status_rules
from shared.db.dialect import is_pg
from shared.events.household import HouseholdEventType

MEMBER_FIELDS = (
    "nik_issue",
    "name",
    "birth_place",
    "birth_date",
    "sex",
    "relationship",
    "marital_status",
    "education",
    "school_status",
    "occupation",
    "disability",
    "pregnant",
)


@dataclass
class MergeCounts:
    """What the merge did."""

    families_inserted: int = 0
    families_updated: int = 0
    families_unchanged: int = 0
    members_inserted: int = 0
    members_updated: int = 0
    members_unchanged: int = 0
    members_removed: int = 0
    desil_snapshots: int = 0
    flags_raised: int = 0
    flags_cleared: int = 0
    status_changed: int = 0
    events_emitted: int = 0
    rows_queued: int = 0


def _rc(result: Any) -> int:
    return int(result.rowcount or 0)


def _distinct(a: Any, b: Any) -> Any:
    return a.is_distinct_from(b)


async def _errors_from(session: AsyncSession, rows: Any) -> int:
    cols = ["import_id", "row_no", "field", "reason", "no_kk"]
    return _rc(await session.execute(insert(import_error).from_select(cols, rows)))


async def reject_inconsistent_rows(session: AsyncSession, import_id: str) -> int:
    """Rows the file contradicts itself on: a NIK seen before (same KK or another), a missing or second head,
    family columns differing from the family's first row. Returns the errors added."""
    r = import_row
    mine = r.c.import_id == import_id
    # Aggregate first, then rank only the few NIKs and KKs with a problem: window sorts of every row of a
    # city-size file (wide rows, partitioned twice) cost several seconds; hash aggregates a fraction of that.
    repeated_niks = select(r.c.nik).where(mine).group_by(r.c.nik).having(func.count() > 1)
    # The person stays where the registry already has them, else on the first KK listing them; every other
    # row of the NIK is set aside (nik.repeated on the same KK, nik.duplicate on another: both families flagged).
    held_here = case(
        (
            exists().where(
                member.c.nik == r.c.nik,
                member.c.active.is_(True),
                family.c.id == member.c.family_id,
                family.c.no_kk == r.c.no_kk,
            ),
            0,
        ),
        else_=1,
    )
    candidates = select(r.c.row_no, r.c.no_kk, r.c.nik, held_here.label("held")).where(mine, r.c.nik.in_(repeated_niks))
    cand = candidates.subquery("cand")
    rank = (cand.c.held, cand.c.row_no)
    by_nik = select(
        cand.c.row_no,
        cand.c.no_kk,
        func.row_number().over(partition_by=cand.c.nik, order_by=rank).label("rn"),
        func.first_value(cand.c.no_kk).over(partition_by=cand.c.nik, order_by=rank).label("first_kk"),
    ).subquery("by_nik")
    added = await _errors_from(
        session,
        select(
            literal(import_id, String),
            by_nik.c.row_no,
            literal("nik", String),
            case((by_nik.c.no_kk == by_nik.c.first_kk, "nik.repeated"), else_=DUPLICATE_NIK_RULE),
            by_nik.c.no_kk,
        ).where(by_nik.c.rn > 1),
    )
    await quarantine_rows_with_errors(session, import_id)
    is_head = case((r.c.relationship == HEAD, 1), else_=0)
    # A KK whose head row failed validation is no headless KK: the report names the head row and its reason,
    # and the family is imported without it (`build_families`).
    bad_head = exists().where(
        import_bad_row.c.import_id == import_id,
        import_bad_row.c.no_kk == r.c.no_kk,
        import_bad_row.c.relationship == HEAD,
    )
    part, order = r.c.no_kk, r.c.row_no
    cols = ("kelurahan_code", "address", "rt", "rw", "desil", "desil_period")
    # A KK whose rows do not share one set of family columns (GROUP BY treats NULLs as equal, as IS DISTINCT FROM
    # does) or do not have exactly one head. Hashing, not comparing: no collation work on the addresses.
    variants = (
        select(r.c.no_kk, func.sum(is_head).label("heads"))
        .where(mine)
        .group_by(r.c.no_kk, *[r.c[c] for c in cols])
        .subquery("variants")
    )
    suspect_kks = (
        select(variants.c.no_kk)
        .group_by(variants.c.no_kk)
        .having(or_(func.count() > 1, func.sum(variants.c.heads) != 1))
    )
    fam = (
        select(
            r.c.row_no,
            r.c.no_kk,
            is_head.label("is_head"),
            func.sum(is_head).over(partition_by=r.c.no_kk).label("heads"),
            func.sum(is_head).over(partition_by=part, order_by=order, rows=(None, 0)).label("head_rank"),
            func.row_number().over(partition_by=part, order_by=order).label("rn"),
            case((bad_head, 1), else_=0).label("bad_head"),
            *[r.c[c] for c in cols],
            *[func.first_value(r.c[c]).over(partition_by=part, order_by=order).label(f"first_{c}") for c in cols],
        )
        .where(mine, r.c.no_kk.in_(suspect_kks))
        .subquery("fam")
    )
    differs = [(_distinct(fam.c[c], fam.c[f"first_{c}"]), c) for c in cols]
    # No head at all (not even a bad row): the file does not say whose family it is, every row waits.
    headless = (fam.c.heads == 0) & (fam.c.bad_head == 0)
    field_name = case(
        ((fam.c.is_head == 1) & (fam.c.head_rank > 1), "hubungan"),
        (headless, "hubungan"),
        *[(cond, {"address": "alamat", "desil_period": "periode_desil"}.get(c, c)) for cond, c in differs],
    )
    reason = case(
        ((fam.c.is_head == 1) & (fam.c.head_rank > 1), "family.several_heads"),
        (headless, "family.no_head"),
        else_="family.inconsistent",
    )
    added += await _errors_from(
        session,
        select(literal(import_id, String), fam.c.row_no, field_name, reason, fam.c.no_kk).where(
            or_(
                (fam.c.is_head == 1) & (fam.c.head_rank > 1),
                headless,
                *[cond for cond, _ in differs],
            )
        ),
    )
    # Say which row was the head and that the family was imported without it: KKs still staged without a head
    # row, found by one aggregate over the staged rows and joined (a correlated IN/NOT EXISTS per bad row scanned
    # the unindexed staging table once per row: 28 s of a 100,000-family import, quadratic in the file).
    b = import_bad_row
    # Statistics before the semi-joins with the staging tables below and in `build_families`: estimated at a row
    # or two, the bad head rows were a nested loop with a scan of the whole staging table per row (96 s at
    # 250,000 families).
    await analyze(session, b)
    bad_head_kks = select(b.c.no_kk).where(b.c.import_id == import_id, b.c.relationship == HEAD)
    # Only the KKs of bad head rows are aggregated (a few hundred), not every KK of the file (0.4 s at 250,000).
    staged_kks = (
        select(r.c.no_kk, func.max(is_head).label("has_head"))
        .where(mine, r.c.no_kk.in_(bad_head_kks))
        .group_by(r.c.no_kk)
        .subquery("staged_kks")
    )
    added += await _errors_from(
        session,
        select(
            literal(import_id, String),
            b.c.row_no,
            literal("hubungan", String),
            literal(HEAD_ROW_RULE, String),
            b.c.no_kk,
        )
        .select_from(b.join(staged_kks, staged_kks.c.no_kk == b.c.no_kk))
        .where(b.c.import_id == import_id, b.c.relationship == HEAD, staged_kks.c.has_head == 0),
    )
    await quarantine_rows_with_errors(session, import_id)
    return added


_IMPORT_FAMILY_COLUMNS = [c.name for c in import_family.c]


async def build_families(session: AsyncSession, import_id: str) -> None:
    """One import_family row per surviving No. KK (taken from its head's row): existing id or a new one."""
    d = Dialect(session)
    r = import_row
    await session.execute(
        insert(import_family).from_select(
            _IMPORT_FAMILY_COLUMNS,
            select(
                r.c.import_id,
                r.c.no_kk,
                func.coalesce(family.c.id, d.job_uuid(import_id, r.c.row_no, "family")),
                case((family.c.id.is_(None), "insert"), else_="same"),
                r.c.nik,
                r.c.address,
                r.c.rt,
                r.c.rw,
                r.c.kelurahan_code,
                r.c.kecamatan_code,
                r.c.desil,
                r.c.desil_period,
            )
            .select_from(r.outerjoin(family, family.c.no_kk == r.c.no_kk))
            .where(r.c.import_id == import_id, r.c.relationship == HEAD),
        )
    )
    # A KK whose head row waits in the correction queue: its family columns from its first remaining row, its
    # head NIK as the file gave it (the fix of the head row corrects it).
    b = import_bad_row
    bad_head_kks = select(b.c.no_kk).where(b.c.import_id == import_id, b.c.relationship == HEAD)
    first = (
        # Only the KKs of bad head rows (joined below anyway): grouping every KK of the file cost 0.9 s.
        select(r.c.no_kk, func.min(r.c.row_no).label("row_no"))
        .where(r.c.import_id == import_id, r.c.no_kk.in_(bad_head_kks))
        .group_by(r.c.no_kk)
        .having(func.sum(case((r.c.relationship == HEAD, 1), else_=0)) == 0)
        .subquery("first")
    )
    head = (
        select(b.c.no_kk, func.min(b.c.row_no).label("row_no"))
        .where(b.c.import_id == import_id, b.c.relationship == HEAD)
        .group_by(b.c.no_kk)
        .subquery("head")
    )
    head_row = b.alias("head_row")
    await session.execute(
        insert(import_family).from_select(
            _IMPORT_FAMILY_COLUMNS,
            select(
                r.c.import_id,
                r.c.no_kk,
                func.coalesce(family.c.id, d.job_uuid(import_id, r.c.row_no, "family")),
                case((family.c.id.is_(None), "insert"), else_="same"),
                func.substr(func.coalesce(head_row.c.nik, ""), 1, 16),
                r.c.address,
                r.c.rt,
                r.c.rw,
                r.c.kelurahan_code,
                r.c.kecamatan_code,
                r.c.desil,
                r.c.desil_period,
            )
            .select_from(
                r.join(first, and_(first.c.no_kk == r.c.no_kk, first.c.row_no == r.c.row_no))
                .join(head, head.c.no_kk == r.c.no_kk)
                .join(head_row, and_(head_row.c.import_id == import_id, head_row.c.row_no == head.c.row_no))
                .outerjoin(family, family.c.no_kk == r.c.no_kk)
            )
            .where(r.c.import_id == import_id),
        )
    )


async def reject_nik_active_elsewhere(session: AsyncSession, import_id: str) -> int:
    """Rows whose NIK is active in a family this file does not list: the person stays there, the row is set
    aside (nik.duplicate) and both families are flagged once the queue entry exists."""
    r, fi = import_row, import_family
    listed = exists().where(fi.c.import_id == import_id, fi.c.family_id == member.c.family_id)
    own = select(fi.c.family_id).where(fi.c.import_id == import_id, fi.c.no_kk == r.c.no_kk).scalar_subquery()
    return await _errors_from(
        session,
        select(
            literal(import_id, String),
            r.c.row_no,
            literal("nik", String),
            literal(DUPLICATE_NIK_RULE, String),
            r.c.no_kk,
        )
        .select_from(r.join(member, and_(member.c.nik == r.c.nik, member.c.active.is_(True))))
        .where(r.c.import_id == import_id, ~listed, member.c.family_id != func.coalesce(own, "")),
    )


async def classify(session: AsyncSession, import_id: str) -> None:
    """Mark existing families whose imported columns or members differ from the stored ones as 'update'.

    Set-based on both dialects: the family columns by one join on the key, the members by one GROUP BY over the
    staged rows and the families' active members together (a member row and its staged row fall into one group
    when every compared column is equal; a group with one side only is a difference). SQLite has no hash join:
    the correlated "is this member still listed" probe this replaced scanned the unindexed staging table once
    per member (a 5,000-family re-import took 19 s instead of 1)."""
    fi, r, m = import_family, import_row, member
    same = and_(fi.c.import_id == import_id, fi.c.action == "same")
    await session.execute(
        update(fi)
        .where(same, family.c.id == fi.c.family_id, or_(*[_distinct(family.c[c], fi.c[c]) for c in FAMILY_FIELDS]))
        .values(action="update")
    )
    one, zero = literal(1, Integer), literal(0, Integer)
    staged = (
        select(
            fi.c.family_id,
            r.c.nik,
            *[r.c[c] for c in MEMBER_FIELDS],
            one.label("staged"),
            zero.label("stored"),
            zero.label("imported"),
        )
        .select_from(r.join(fi, and_(fi.c.import_id == r.c.import_id, fi.c.no_kk == r.c.no_kk)))
        .where(r.c.import_id == import_id, fi.c.action == "same")
    )
    stored = (
        select(
            m.c.family_id,
            m.c.nik,
            *[m.c[c] for c in MEMBER_FIELDS],
            zero,
            one,
            case((m.c.source == SOURCE, 1), else_=0),
        )
        .select_from(m.join(fi, and_(fi.c.family_id == m.c.family_id, fi.c.import_id == import_id)))
        .where(fi.c.action == "same", m.c.active.is_(True))
    )
    both = union_all(staged, stored).subquery("both_sides")
    keys = [both.c.family_id, both.c.nik, *[both.c[c] for c in MEMBER_FIELDS]]
    # Staged only: a new, changed or moved-in member. Stored only: gone, changed or moved out (members added
    # locally, not by an import, are left alone when the file does not list them, as `write` leaves them).
    differing = (
        select(both.c.family_id)
        .group_by(*keys)
        .having(
            or_(
                func.sum(both.c.stored) == 0,
                and_(func.sum(both.c.staged) == 0, func.max(both.c.imported) == 1),
            )
        )
    )
    await session.execute(update(fi).where(same, fi.c.family_id.in_(differing)).values(action="update"))


def removed_members(import_id: str) -> Any:
    """SELECT of imported members of the job's changed families whose NIK the file no longer lists at all (a
    member the file lists on another KK moves there: `write` updates that row instead)."""
    fi, r, m = import_family, import_row, member
    # NOT IN an uncorrelated subquery: one hashed set (PostgreSQL) or one temporary index (SQLite), where a
    # correlated NOT EXISTS scanned the unindexed staging table once per member on SQLite.
    listed = select(r.c.nik).where(r.c.import_id == import_id)
    # A KK with a row in the correction queue removes nobody: that row may be this very person, mistyped.
    queued = exists().where(import_bad_row.c.import_id == import_id, import_bad_row.c.no_kk == fi.c.no_kk)
    return (
        select(m.c.id, m.c.family_id)
        .select_from(m.join(fi, and_(fi.c.family_id == m.c.family_id, fi.c.import_id == import_id)))
        .where(fi.c.action == "update", m.c.active.is_(True), m.c.source == SOURCE, m.c.nik.not_in(listed), ~queued)
    )


async def _main_events(session: AsyncSession, import_id: str) -> None:
    """Record an `updated` event per changed family (new families' `registered` events are `emit`'s own)."""
    d = Dialect(session)
    fi = import_family
    cols = ["import_id", "family_id", "event_type", "action", "change", "before", "after"]
    await session.execute(
        insert(import_event).from_select(
            cols,
            select(
                fi.c.import_id,
                fi.c.family_id,
                literal(HouseholdEventType.UPDATED.value, String),
                literal("import_updated", String),
                d.obj("type", "import_updated", "source", SOURCE, "import_id", import_id),
                d.obj(*[x for c in FAMILY_FIELDS for x in (c, family.c[c])]),
                d.obj(*[x for c in FAMILY_FIELDS for x in (c, fi.c[c])]),
            )
            .select_from(fi.join(family, family.c.id == fi.c.family_id))
            .where(fi.c.import_id == import_id, fi.c.action == "update")
            .order_by(fi.c.family_id),
        )
    )


# Rebuilt rather than maintained row by row on a first import. At Padang scale index maintenance was most of the
# member insert (random uuids land all over a btree); a sorted build after the load is far cheaper.
REBUILT_INDEXES = (
    *[ix for ix in family.indexes if not ix.unique],
    *member.indexes,
)
# Likewise the keys (primary and unique: `ALTER TABLE … ADD` builds them sorted, and still fails the job on a
# duplicate) and the foreign keys (checked once by one join each, not by a trigger query per row). `flag` has no
# row while `family` has none, so its foreign keys can go too (they reference the keys rebuilt here).
REBUILT_KEYS = (
    (family, f"{family.name}_pkey", "PRIMARY KEY (id)"),
    (family, "uq_family_no_kk", "UNIQUE (no_kk)"),
    (member, f"{member.name}_pkey", "PRIMARY KEY (id)"),
    (desil_snapshot, "uq_desil_family_period", "UNIQUE (family_id, period)"),
)
REBUILT_FOREIGN_KEYS = tuple(fk for t in (family, member, desil_snapshot, flag) for fk in t.foreign_key_constraints)
# History has no row while `family` has none (families are never deleted); its index is rebuilt after `emit`.
HISTORY_INDEXES = tuple(family_history.indexes)


async def _drop_indexes_if_first_import(session: AsyncSession) -> bool:
    """On PostgreSQL with no family yet, drop the keys, secondary indexes and foreign keys of family, member,
    desil_snapshot and flag (`_rebuild_indexes` restores them in the same transaction, so no other session ever
    sees them missing); True if dropped."""
    if not is_pg(session) or (await session.execute(select(exists().select_from(family)))).scalar():
        return False
    for fk in REBUILT_FOREIGN_KEYS:
        await session.execute(DropConstraint(fk))
    for table, name, _ in REBUILT_KEYS:
        await session.execute(text(f"ALTER TABLE {table.name} DROP CONSTRAINT {name}"))
    for ix in (*REBUILT_INDEXES, *HISTORY_INDEXES):
        await session.execute(DropIndex(ix))
    return True


async def _rebuild_indexes(session: AsyncSession) -> None:
    for table, name, definition in REBUILT_KEYS:
        await session.execute(text(f"ALTER TABLE {table.name} ADD CONSTRAINT {name} {definition}"))
    for ix in REBUILT_INDEXES:
        await session.execute(CreateIndex(ix))
    for fk in REBUILT_FOREIGN_KEYS:
        await session.execute(AddConstraint(fk))
    # The tables went from empty to the whole city: without statistics the flag and event queries that follow
    # are planned as nested loops over a few rows. Only the columns they filter and join on: half the time of
    # every column, and a column list leaves the tables' change counters alone, so autovacuum still analyses
    # every column once the import has committed (a full ANALYZE here would tell it there is nothing to do).
    await analyze(session, family, columns=("id", "no_kk", "head_nik", "kelurahan_code", "data_status"))
    await analyze(session, member, columns=("id", "family_id", "nik", "active", "deceased", "nik_issue", "sex"))


async def write(session: AsyncSession, import_id: str, *, actor: Actor, now: datetime, counts: MergeCounts) -> None:
    """Apply the classified import to families and members."""
    d = Dialect(session)
    fi, r, m = import_family, import_row, member
    mine = fi.c.import_id == import_id
    await session.execute(
        insert(family).from_select(
            [
                "id",
                "no_kk",
                "head_nik",
                "address",
                "rt",
                "rw",
                "kelurahan_code",
                "kecamatan_code",
                "existence_status",
                "data_status",
                "source",
                "desil",
                "desil_period",
                "desil_since",
                "version",
                "created_at",
                "created_by",
                "updated_at",
                "updated_by",
            ],
            select(
                fi.c.family_id,
                fi.c.no_kk,
                fi.c.head_nik,
                fi.c.address,
                fi.c.rt,
                fi.c.rw,
                fi.c.kelurahan_code,
                fi.c.kecamatan_code,
                literal("present", String),
                literal("active", String),
                literal(SOURCE, String),
                fi.c.desil,
                fi.c.desil_period,
                fi.c.desil_period,
                # The registered event's version (`emit` counts it as stored); later events of the job bump it.
                literal(1, Integer),
                literal(now, family.c.created_at.type),
                literal(actor.subject, String),
                literal(now, family.c.updated_at.type),
                literal(actor.subject, String),
            ).where(mine, fi.c.action == "insert"),
        )
    )
    await session.execute(
        update(family)
        .where(mine, fi.c.action == "update", family.c.id == fi.c.family_id)
        .values(**{c: fi.c[c] for c in (*FAMILY_FIELDS, "kecamatan_code")}, updated_at=now, updated_by=actor.subject)
    )
    counts.members_removed = _rc(
        await session.execute(
            update(m)
            .where(m.c.id.in_(removed_members(import_id).with_only_columns(m.c.id)))
            .values(active=False, updated_at=now)
        )
    )
    counts.members_updated = _rc(
        await session.execute(
            update(m)
            .where(
                r.c.import_id == import_id,
                fi.c.import_id == import_id,
                fi.c.no_kk == r.c.no_kk,
                fi.c.action.in_(("insert", "update")),
                m.c.nik == r.c.nik,
                m.c.active.is_(True),
                or_(m.c.family_id != fi.c.family_id, *[_distinct(m.c[c], r.c[c]) for c in MEMBER_FIELDS]),
            )
            .values(family_id=fi.c.family_id, **{c: r.c[c] for c in MEMBER_FIELDS}, updated_at=now)
        )
    )
    counts.members_inserted = _rc(
        await session.execute(
            insert(m).from_select(
                ["id", "family_id", "nik", *MEMBER_FIELDS, "deceased", "active", "source", "created_at", "updated_at"],
                select(
                    d.job_uuid(import_id, r.c.row_no, "member"),
                    fi.c.family_id,
                    r.c.nik,
                    *[r.c[c] for c in MEMBER_FIELDS],
                    literal(False),
                    literal(True),
                    literal(SOURCE, String),
                    literal(now, m.c.created_at.type),
                    literal(now, m.c.updated_at.type),
                )
                .select_from(r.join(fi, and_(fi.c.import_id == r.c.import_id, fi.c.no_kk == r.c.no_kk)))
                .where(
                    r.c.import_id == import_id,
                    fi.c.action.in_(("insert", "update")),
                    ~exists().where(m.c.nik == r.c.nik, m.c.active.is_(True)),
                ),
            )
        )
    )


async def write_desil(session: AsyncSession, import_id: str, *, now: datetime, counts: MergeCounts) -> None:
    """Current desil of existing families when the imported period is the newest (desil_changed when the value or
    the period moved);
    a snapshot per family and period (never edited: the same period twice changes nothing)."""
    d = Dialect(session)
    fi, snap = import_family, desil_snapshot
    newest = and_(
        fi.c.import_id == import_id,
        fi.c.action != "insert",
        fi.c.desil.is_not(None),
        family.c.id == fi.c.family_id,
        or_(family.c.desil_period.is_(None), fi.c.desil_period >= family.c.desil_period),
        ~exists().where(snap.c.family_id == fi.c.family_id, snap.c.period == fi.c.desil_period),
    )
    await session.execute(
        insert(import_event).from_select(
            ["import_id", "family_id", "event_type", "action", "change", "before", "after"],
            select(
                fi.c.import_id,
                fi.c.family_id,
                literal(HouseholdEventType.DESIL_CHANGED.value, String),
                literal("desil_changed", String),
                d.obj(
                    "type",
                    "desil_changed",
                    "from",
                    family.c.desil,
                    "to",
                    fi.c.desil,
                    "period",
                    fi.c.desil_period,
                    "source",
                    SOURCE,
                ),
                d.obj("desil", family.c.desil, "desil_period", family.c.desil_period),
                d.obj("desil", fi.c.desil, "desil_period", fi.c.desil_period, "import_batch_id", import_id),
            )
            # The period is part of the household state too: a new period with the same desil is an event (and a
            # version) of its own, or read models and frozen tahap lists keep the old period.
            .where(
                newest, or_(_distinct(family.c.desil, fi.c.desil), _distinct(family.c.desil_period, fi.c.desil_period))
            )
            .order_by(fi.c.family_id),
        )
    )
    await session.execute(
        update(family)
        .where(newest)
        .values(
            desil=fi.c.desil,
            desil_period=fi.c.desil_period,
            desil_since=case(
                ((family.c.desil == fi.c.desil) & family.c.desil_since.is_not(None), family.c.desil_since),
                else_=fi.c.desil_period,
            ),
        )
    )
    counts.desil_snapshots = _rc(
        await session.execute(
            insert(snap).from_select(
                ["family_id", "period", "desil", "source", "import_batch_id", "recorded_at"],
                select(
                    fi.c.family_id,
                    fi.c.desil_period,
                    fi.c.desil,
                    literal(SOURCE, String),
                    literal(import_id, String),
                    literal(now, snap.c.recorded_at.type),
                ).where(
                    fi.c.import_id == import_id,
                    fi.c.desil.is_not(None),
                    ~exists().where(snap.c.family_id == fi.c.family_id, snap.c.period == fi.c.desil_period),
                ),
            )
        )
    )


async def merge_extract(
    session: AsyncSession,
    *,
    import_id: str,
    actor: Actor,
    now: datetime,
    today: date,
    phase: Callable[[str], None] | None = None,
) -> MergeCounts:
    """Steps 1-6 of the module docstring over the job's staged rows; `phase` hears each phase start
    (`imports.progress.EXTRACT_PHASES`)."""
    counts = MergeCounts()
    step = phase or (lambda _: None)
    step("checking")
    await quarantine_rows_with_errors(session, import_id)
    await set_aside_kk_copies(session, import_id)
    await reject_inconsistent_rows(session, import_id)
    step("families")
    await drop_indexes(session, import_family)
    await build_families(session, import_id)
    await create_indexes(session, import_family)
    # Only the row is set aside: its family stays listed, so no other row is stranded by it (one pass).
    if await reject_nik_active_elsewhere(session, import_id):
        await quarantine_rows_with_errors(session, import_id)
    step("classifying")
    await classify(session, import_id)
    # The planner needs the real size and action mix of import_family (else nested loops over 250k families).
    await analyze(session, import_family)
    fi = import_family
    rows = await session.execute(
        select(fi.c.action, func.count()).where(fi.c.import_id == import_id).group_by(fi.c.action)
    )
    by_action: dict[str, int] = {action: int(n) for action, n in rows}
    counts.families_inserted = int(by_action.get("insert", 0))
    counts.families_updated = int(by_action.get("update", 0))
    counts.families_unchanged = int(by_action.get("same", 0))
    staged = int((await session.execute(select(func.count()).where(import_row.c.import_id == import_id))).scalar_one())
    # Built once before `emit` reads the events, not maintained by each of the inserts that record them.
    step("writing")
    await drop_indexes(session, import_event)
    await _main_events(session, import_id)
    dropped = await _drop_indexes_if_first_import(session)
    await write(session, import_id, actor=actor, now=now, counts=counts)
    counts.members_unchanged = staged - counts.members_inserted - counts.members_updated
    step("desil")
    await write_desil(session, import_id, now=now, counts=counts)
    if dropped:
        await _rebuild_indexes(session)
    step("flags")
    counts.flags_raised, counts.flags_cleared = await refresh_import_flags(
        session, import_id, now=now, whole_registry=dropped
    )
    counts.rows_queued = await queue_corrections(session, import_id, now=now)
    counts.flags_raised += await flag_queued_families(session, import_id, now=now)
    step("status")
    status_scope = union_all(
        select(import_event.c.family_id).where(
            import_event.c.import_id == import_id, import_event.c.action.in_(("flag_raised", "flag_cleared"))
        ),
        select(fi.c.family_id).where(fi.c.import_id == import_id, fi.c.action == "update"),
    )
    counts.status_changed = await apply_status_rules(session, import_id=import_id, family_ids=status_scope, today=today)
    step("events")
    await create_indexes(session, import_event, analyzed=False)  # `emit` analyses it
    counts.events_emitted = await emit(
        session,
        import_id=import_id,
        actor=actor,
        now=now,
        today=today,
        reason=f"DTSEN extract import {import_id}",
        whole_registry=dropped,
        new_families=True,
    )
    if dropped:
        for ix in HISTORY_INDEXES:
            await session.execute(CreateIndex(ix))
    return counts
