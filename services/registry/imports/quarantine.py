"""Rows kept out of the member table without losing them: set aside during the merge, queued for correction,
and their families flagged (`member_needs_correction`, and `duplicate_nik` on both sides of a duplicate).

A bad row never takes its family with it: the rest of the KK is imported. Each set-aside row becomes one entry
of the correction queue (`corrections`), with its raw values, the rules it broke, its family and wilayah."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.domain.flags import FlagKind, FlagStatus
from services.registry.families.models import family, flag, member
from services.registry.imports.events import FlagPayload, record_flag_events
from services.registry.imports.extract import HEAD, RowError
from services.registry.imports.models import SOURCE, correction, import_bad_row, import_error, import_family, import_row
from services.registry.imports.sql import Dialect
from services.registry.imports.staging import add_errors, analyze

# The rules the merge itself applies (validation's are the field rules of `extract`).
DUPLICATE_NIK_RULE = "nik.duplicate"
HEAD_ROW_RULE = "family.head_row_queued"
IDENTICAL_COPY_RULE = "no_kk.identical_copy"
CONFLICTING_COPY_RULE = "no_kk.conflicting_copy"
SUBJECT_PREFIX = "correction:"


def _raw_values(session: AsyncSession, r: Any = import_row) -> Any:
    """A staged row (of `import_row`, or rows with its columns) back as the extract's columns (text, as the file
    would give them)."""
    d = Dialect(session)

    def text(c: Any) -> Any:
        return func.coalesce(cast(c, String), "")

    return d.obj(
        "no_kk", r.c.no_kk,
        "kelurahan_code", r.c.kelurahan_code,
        "alamat", r.c.address,
        "rt", r.c.rt,
        "rw", r.c.rw,
        "nik", r.c.nik,
        "nama", r.c.name,
        "tempat_lahir", text(r.c.birth_place),
        "tanggal_lahir", text(r.c.birth_date),
        "jenis_kelamin", text(r.c.sex),
        "hubungan", r.c.relationship,
        "status_kawin", text(r.c.marital_status),
        "pendidikan", text(r.c.education),
        "status_sekolah", text(r.c.school_status),
        "pekerjaan", text(r.c.occupation),
        "disabilitas", text(r.c.disability),
        "hamil", case((r.c.pregnant.is_(True), "ya"), (r.c.pregnant.is_(False), "tidak"), else_=""),
        "desil", text(r.c.desil),
        "periode_desil", text(r.c.desil_period),
    )  # fmt: skip


async def quarantine_rows_with_errors(session: AsyncSession, import_id: str) -> int:
    """Move every staged row that has an error out of `import_row` into `import_bad_row` (raw values kept);
    only that row, never the rest of its family. Returns the rows moved."""
    r, b, e = import_row, import_bad_row, import_error
    has_error = exists().where(e.c.import_id == import_id, e.c.row_no == r.c.row_no)
    columns = ["import_id", "row_no", "no_kk", "nik", "relationship", "kelurahan_code", "raw"]

    def bad_rows(rows: Any) -> Any:
        return select(*[rows.c[c] for c in columns[:-1]], _raw_values(session, rows))

    if Dialect(session).pg:
        # One pass over the staging table: the DELETE hands its rows to the INSERT (a data-modifying CTE). An
        # INSERT … SELECT and then a DELETE read the whole table twice, 0.2 s each at 250,000 families, and the
        # checks move rows three times.
        gone = delete(r).where(r.c.import_id == import_id, has_error).returning(*r.c).cte("gone")
        moved = await session.execute(insert(b).from_select(columns, bad_rows(gone)))
        return int(moved.rowcount or 0)  # type: ignore[attr-defined]
    moved = await session.execute(
        insert(b).from_select(columns, bad_rows(select(r).where(r.c.import_id == import_id, has_error).subquery()))
    )
    count = int(moved.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        await session.execute(delete(r).where(r.c.import_id == import_id, has_error))
    return count


async def set_aside_kk_copies(session: AsyncSession, import_id: str) -> int:
    """A No. KK listed twice in the file: each copy starts at a head row. An identical later copy collapses into
    the first (reported as no_kk.identical_copy, nothing lost); a differing one is set aside whole
    (no_kk.conflicting_copy) and the first imported. Only KKs with several head rows that lie apart or repeat a
    NIK are copies (one block listing two heads is family.several_heads). Returns the rows set aside."""
    r, b = import_row, import_bad_row
    both = union_all(
        select(r.c.no_kk, r.c.row_no, r.c.relationship).where(r.c.import_id == import_id),
        select(b.c.no_kk, b.c.row_no, b.c.relationship).where(b.c.import_id == import_id, b.c.no_kk.is_not(None)),
    ).subquery("both")
    suspects = (
        select(both.c.no_kk)
        .group_by(both.c.no_kk)
        .having(func.sum(case((both.c.relationship == HEAD, 1), else_=0)) > 1)
    )
    suspect_kks = list((await session.execute(suspects)).scalars())
    if not suspect_kks:
        return 0
    # Few KKs at audit rates: their rows are compared here, the outcome written set-based.
    by_kk: dict[str, list[tuple[int, str, str, tuple[Any, ...]]]] = defaultdict(list)
    values = [c for c in r.c if c.name not in ("import_id", "row_no")]
    for row in await session.execute(
        select(r.c.row_no, *values).where(r.c.import_id == import_id, r.c.no_kk.in_(suspect_kks))
    ):
        by_kk[row.no_kk].append((row.row_no, row.relationship, row.nik, tuple(row[1:])))
    for row in await session.execute(
        select(b.c.row_no, b.c.no_kk, b.c.relationship, b.c.nik, b.c.raw).where(
            b.c.import_id == import_id, b.c.no_kk.in_(suspect_kks)
        )
    ):
        by_kk[row.no_kk].append(
            (row.row_no, row.relationship or "", row.nik or "", ("bad", json.dumps(row.raw, sort_keys=True)))
        )
    identical: list[RowError] = []
    conflicting: list[RowError] = []
    for no_kk, rows in by_kk.items():
        rows.sort()
        niks = [n for _, _, n, _ in rows]
        together = rows[-1][0] - rows[0][0] + 1 == len(rows)
        if together and len(set(niks)) == len(niks):
            continue
        copies: list[list[tuple[int, str, str, tuple[Any, ...]]]] = [[]]
        for item in rows:
            if item[1] == HEAD and any(x[1] == HEAD for x in copies[-1]):
                copies.append([])
            copies[-1].append(item)
        first = sorted(v for _, _, _, v in copies[0])
        for copy in copies[1:]:
            same = sorted(v for _, _, _, v in copy) == first
            target, rule = (identical, IDENTICAL_COPY_RULE) if same else (conflicting, CONFLICTING_COPY_RULE)
            target.extend(RowError(row_no, "no_kk", rule, no_kk) for row_no, _, _, _ in copy)
    if identical:
        rows_gone = [e.row_no for e in identical]
        await session.execute(delete(r).where(r.c.import_id == import_id, r.c.row_no.in_(rows_gone)))
        await session.execute(delete(b).where(b.c.import_id == import_id, b.c.row_no.in_(rows_gone)))
    await add_errors(session, import_id, identical + conflicting)
    await quarantine_rows_with_errors(session, import_id)
    return len(identical) + len(conflicting)


def _queued_before(b: Any, rule: Any) -> Any:
    """An entry with the staged row's No. KK, NIK and `rule` exists, NULL matching NULL (IS NOT DISTINCT FROM).

    Spelled as one EXISTS per combination of missing values, each with equalities and IS NULL only, so every probe
    is one descent of `ix_correction_key`. IS NOT DISTINCT FROM cannot use the index: each probe read every entry
    of the rule, among them the ones this very INSERT had just added (invisible to it, fetched all the same), which
    made the queue quadratic in the job's bad rows (1.2 s for the 5,000 of a 250,000-family file)."""
    c = correction
    branches = []
    for kk_missing in (False, True):
        for nik_missing in (False, True):
            staged = [b.c.no_kk.is_(None) if kk_missing else b.c.no_kk.is_not(None)]
            staged.append(b.c.nik.is_(None) if nik_missing else b.c.nik.is_not(None))
            entry = [
                c.c.no_kk.is_(None) if kk_missing else c.c.no_kk == b.c.no_kk,
                c.c.nik.is_(None) if nik_missing else c.c.nik == b.c.nik,
                c.c.rule == rule,
            ]
            branches.append(and_(*staged, exists().where(*entry)))
    return or_(*branches)


async def queue_corrections(session: AsyncSession, import_id: str, *, now: datetime) -> int:
    """One correction-queue entry per set-aside row of the job: raw values, every rule broken (the first is the
    entry's rule), its family (imported or already registered) and wilayah. A row already queued by an earlier
    job (same No. KK, NIK and rule, whatever became of it) is not queued again. Returns the entries added."""
    d = Dialect(session)
    b, e, fi, c = import_bad_row, import_error, import_family, correction
    # Filled since the job began and never analysed: planned as a few rows each, the per-row errors were joined
    # to the bad rows by a nested loop (25 million comparisons, 2.1 s, at 5,000 bad rows).
    await analyze(session, b, e)
    reg = family.alias("reg")
    first = (
        select(e.c.row_no, func.min(e.c.id).label("id")).where(e.c.import_id == import_id).group_by(e.c.row_no)
    ).subquery("first")
    fe = e.alias("fe")
    errs = (
        select(e.c.row_no, d.array_agg(e.c.field + literal(":", String) + e.c.reason).label("errors"))
        .where(e.c.import_id == import_id)
        .group_by(e.c.row_no)
        .subquery("errs")
    )
    keeper = (
        select(member.c.family_id).where(member.c.nik == b.c.nik, member.c.active.is_(True)).limit(1).scalar_subquery()
    )
    kelurahan = func.coalesce(fi.c.kelurahan_code, reg.c.kelurahan_code, b.c.kelurahan_code)
    result = await session.execute(
        insert(c).from_select(
            [
                "import_id",
                "row_no",
                "rule",
                "field",
                "errors",
                "raw",
                "no_kk",
                "nik",
                "family_id",
                "kelurahan_code",
                "kecamatan_code",
                "detail",
                "status",
                "created_at",
            ],
            select(
                b.c.import_id,
                b.c.row_no,
                fe.c.reason,
                fe.c.field,
                errs.c.errors,
                b.c.raw,
                b.c.no_kk,
                b.c.nik,
                func.coalesce(fi.c.family_id, reg.c.id),
                kelurahan,
                func.substr(kelurahan, 1, 8),
                case((fe.c.reason == DUPLICATE_NIK_RULE, d.obj("other_family_id", keeper)), else_=null()),
                literal("open", String),
                literal(now, c.c.created_at.type),
            )
            .select_from(
                b.join(first, first.c.row_no == b.c.row_no)
                .join(fe, fe.c.id == first.c.id)
                .join(errs, errs.c.row_no == b.c.row_no)
                .outerjoin(fi, and_(fi.c.import_id == import_id, fi.c.no_kk == b.c.no_kk))
                .outerjoin(reg, reg.c.no_kk == b.c.no_kk)
            )
            .where(b.c.import_id == import_id, ~_queued_before(b, fe.c.reason))
            .order_by(b.c.row_no),
        )
    )
    added = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if added:
        # `flag_queued_families` groups the new entries by family: planned on the old statistics (an empty queue
        # on a first import), its "no open flag yet" test read every open flag of the kind once per family, the
        # ones it had just raised included (1.1 s for 3,000 families).
        await analyze(session, c, columns=("import_id", "family_id", "status", "rule", "nik"))
    return added


def _raised_payload(f: Any) -> tuple[dict[str, Any], None]:
    return {"type": "flag_raised", "flag_id": f.id, "kind": f.kind, "status": FlagStatus.OPEN.value}, None


_PAYLOAD: FlagPayload = _raised_payload
_FLAG_COLUMNS = ["family_id", "member_id", "subject_key", "kind", "status", "source", "detail", "raised_at"]


async def flag_queued_families(session: AsyncSession, import_id: str, *, now: datetime) -> int:
    """`member_needs_correction` on each family with open queue entries (unless already open), and
    `duplicate_nik` on both families of each row set aside as nik.duplicate, each naming the other family (and
    the queue entry); a flagged event recorded for each. Returns the flags raised."""
    d = Dialect(session)
    c, m = correction, member
    stamp = literal(now, flag.c.raised_at.type)
    open_kind = literal(FlagStatus.OPEN.value, String)
    touched = select(c.c.family_id).where(c.c.import_id == import_id, c.c.family_id.is_not(None))
    pending = (
        select(c.c.family_id, func.count().label("n"))
        .where(c.c.status == "open", c.c.family_id.in_(touched))
        .group_by(c.c.family_id)
        .subquery("pending")
    )
    kind = FlagKind.MEMBER_NEEDS_CORRECTION.value
    raised = await record_flag_events(
        session,
        import_id=import_id,
        change=insert(flag)
        .from_select(
            _FLAG_COLUMNS,
            select(
                pending.c.family_id,
                null(),
                literal("", String),
                literal(kind, String),
                open_kind,
                literal(SOURCE, String),
                d.obj("open_corrections", pending.c.n),
                stamp,
            )
            .where(
                ~exists().where(
                    flag.c.family_id == pending.c.family_id, flag.c.kind == kind, flag.c.status == FlagStatus.OPEN
                )
            )
            .order_by(pending.c.family_id),
        )
        .returning(flag.c.id, flag.c.family_id, flag.c.member_id, flag.c.kind),
        raised=True,
        payload=_PAYLOAD,
        order=lambda f: (f.id,),
    )
    dup = (
        select(
            c.c.id,
            c.c.family_id,
            c.c.no_kk,
            m.c.family_id.label("other"),
            m.c.id.label("member_id"),
            (literal(SUBJECT_PREFIX, String) + cast(c.c.id, String)).label("key"),
        )
        .join(m, and_(m.c.nik == c.c.nik, m.c.active.is_(True)))
        .where(
            c.c.import_id == import_id,
            c.c.rule == DUPLICATE_NIK_RULE,
            # A claiming family with no valid row of its own is not registered (family_id NULL): the family that
            # keeps the person is still flagged, naming the claimant's No. KK, so the claim is not silent.
            or_(c.c.family_id.is_(None), m.c.family_id != c.c.family_id),
        )
        .subquery("dup")
    )
    dup_kind = literal(FlagKind.DUPLICATE_NIK.value, String)
    source = literal(SOURCE, String)
    sides = union_all(
        # the family the row was dropped from: no member to name, the queue entry is the subject
        select(
            dup.c.family_id, null(), dup.c.key, dup_kind, open_kind, source,
            d.obj("other_family_id", dup.c.other, "correction_id", dup.c.id), stamp,
        ).where(dup.c.family_id.is_not(None)),
        # the family that keeps the person
        select(
            dup.c.other, dup.c.member_id, dup.c.key, dup_kind, open_kind, source,
            d.obj("other_family_id", dup.c.family_id, "other_no_kk", dup.c.no_kk, "correction_id", dup.c.id), stamp,
        ),
    )  # fmt: skip
    raised += await record_flag_events(
        session,
        import_id=import_id,
        change=insert(flag)
        .from_select(_FLAG_COLUMNS, sides)
        .returning(flag.c.id, flag.c.family_id, flag.c.member_id, flag.c.kind),
        raised=True,
        payload=_PAYLOAD,
        order=lambda f: (f.id,),
    )
    return raised
