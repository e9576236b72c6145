"""The computed flags (invalid_nik, sex_nik_mismatch, duplicate_nik, duplicate_kk) for a whole import, set-based.

Same rules and the same result as `flags.repository.refresh_computed_flags` (a test runs that function after an
import and expects no change), written for a few hundred thousand families: the scope and the candidate flags are
materialised in staging tables and joined, instead of correlated subqueries per row, which PostgreSQL would
evaluate row by row at this size."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    true,
    union,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.domain.flags import BLOCKING_STATUSES, COMPUTED_KINDS, SYSTEM_SOURCE, FlagKind, FlagStatus
from services.registry.families.models import family, flag, member
from services.registry.imports.events import FlagPayload, record_flag_events
from services.registry.imports.models import import_family, import_flag, import_scope
from services.registry.imports.sql import Dialect
from services.registry.imports.staging import analyze


async def refresh_import_flags(
    session: AsyncSession, import_id: str, *, now: datetime, whole_registry: bool = False
) -> tuple[int, int]:
    """Raise the computed flags now true and clear the open ones no longer true, for the job's new and changed
    families and every family sharing a NIK or a head NIK with them (`whole_registry`: a first import,
    where that is simply every family of the job); a flagged / flag_resolved event recorded for each. Returns
    (raised, cleared)."""
    d = Dialect(session)
    fi, m, m2, f2 = import_family, member, member.alias("m2"), family.alias("f2")
    is_changed = (fi.c.import_id == import_id, fi.c.action.in_(("insert", "update")))
    changed = select(fi.c.family_id).where(*is_changed)
    if whole_registry:
        # The job's families are the whole registry: no scope to materialise, no filter by it.
        everything: Any = true()
        in_scope = family_in_scope = flag_in_scope = everything
    else:
        niks = select(m.c.nik).where(m.c.family_id.in_(changed))
        heads = select(family.c.head_nik).where(family.c.id.in_(changed))
        scope_rows = _scope_select(import_id, changed, niks, heads)
        await session.execute(insert(import_scope).from_select(["import_id", "family_id"], scope_rows))
        await analyze(session, import_scope)
        scope = select(import_scope.c.family_id).where(import_scope.c.import_id == import_id)
        in_scope, family_in_scope, flag_in_scope = (
            m.c.family_id.in_(scope),
            family.c.id.in_(scope),
            flag.c.family_id.in_(scope),
        )
    cols = ["import_id", "family_id", "member_id", "subject_key", "kind", "detail"]
    nik_sex = case(
        (m.c.nik_issue.is_not(None), None),
        (cast(func.substr(m.c.nik, 7, 2), Integer) > 40, "P"),
        else_="L",
    )

    def member_rows(kind: str, detail: Any) -> Any:
        return [literal(import_id, String), m.c.family_id, m.c.id, m.c.id, literal(kind, String), detail]

    await session.execute(
        insert(import_flag).from_select(
            cols,
            select(*member_rows(FlagKind.INVALID_NIK, d.obj("reason", m.c.nik_issue))).where(
                in_scope, m.c.active.is_(True), m.c.nik_issue.is_not(None)
            ),
        )
    )
    await session.execute(
        insert(import_flag).from_select(
            cols,
            select(*member_rows(FlagKind.SEX_NIK_MISMATCH, d.obj("declared_sex", m.c.sex, "nik_sex", nik_sex))).where(
                in_scope, m.c.active.is_(True), m.c.nik_issue.is_(None), m.c.sex.is_not(None), m.c.sex != nik_sex
            ),
        )
    )
    # On a first import no NIK can be held twice: the file's own repeats were rejected (nik.repeated,
    # nik.duplicate_in_file, then their whole families) and no member existed before; a head NIK is a member's
    # NIK, so no No. KK can share one either. The two self-joins of the registry (1.5 s at Padang scale) would
    # find nothing; the tests run refresh_computed_flags after a first import and expect no change.
    if not whole_registry:
        # Every member row counts, whatever its state (DOMAIN §7: duplicates hide in old records).
        dup = (
            select(m.c.family_id, m.c.id, func.count(func.distinct(m2.c.family_id)).label("n"))
            .select_from(m.join(m2, and_(m2.c.nik == m.c.nik, m2.c.family_id != m.c.family_id)))
            .where(in_scope)
            .group_by(m.c.family_id, m.c.id)
            .subquery("dup")
        )
        await session.execute(
            insert(import_flag).from_select(
                cols,
                select(
                    literal(import_id, String),
                    dup.c.family_id,
                    dup.c.id,
                    dup.c.id,
                    literal(FlagKind.DUPLICATE_NIK.value, String),
                    d.obj("other_families", dup.c.n),
                ),
            )
        )
        dkk = (
            select(family.c.id, func.count().label("n"))
            .select_from(family.join(f2, and_(f2.c.head_nik == family.c.head_nik, f2.c.id != family.c.id)))
            .where(family_in_scope)
            .group_by(family.c.id)
            .subquery("dkk")
        )
        await session.execute(
            insert(import_flag).from_select(
                cols,
                select(
                    literal(import_id, String),
                    dkk.c.id,
                    null(),
                    literal("", String),
                    literal(FlagKind.DUPLICATE_KK.value, String),
                    d.obj("other_families", dkk.c.n),
                ),
            )
        )
    await analyze(session, import_flag)
    c = import_flag
    blocked = exists().where(
        flag.c.family_id == c.c.family_id,
        flag.c.subject_key == c.c.subject_key,
        flag.c.kind == c.c.kind,
        flag.c.status.in_(BLOCKING_STATUSES),
    )
    raised = await record_flag_events(
        session,
        import_id=import_id,
        change=insert(flag)
        .from_select(
            ["family_id", "member_id", "subject_key", "kind", "status", "source", "detail", "raised_at"],
            select(
                c.c.family_id,
                c.c.member_id,
                c.c.subject_key,
                c.c.kind,
                literal(FlagStatus.OPEN.value, String),
                literal(SYSTEM_SOURCE, String),
                c.c.detail,
                literal(now, flag.c.raised_at.type),
            )
            .where(c.c.import_id == import_id, ~blocked)
            .order_by(c.c.family_id, c.c.kind, c.c.subject_key),
        )
        .returning(flag.c.id, flag.c.family_id, flag.c.member_id, flag.c.kind),
        raised=True,
        payload=_computed_payload(FlagStatus.OPEN.value),
        order=lambda f: (f.id,),
    )
    still = exists().where(
        c.c.import_id == import_id,
        c.c.family_id == flag.c.family_id,
        c.c.subject_key == flag.c.subject_key,
        c.c.kind == flag.c.kind,
    )
    cleared = await record_flag_events(
        session,
        import_id=import_id,
        change=update(flag)
        .where(
            flag.c.status == FlagStatus.OPEN,
            flag.c.source == SYSTEM_SOURCE,
            flag.c.kind.in_(COMPUTED_KINDS),
            flag_in_scope,
            ~still,
        )
        .values(
            status=FlagStatus.CLEARED,
            resolved_by=SYSTEM_SOURCE,
            resolved_at=now,
            resolution_reason="the data no longer shows this",
        )
        .returning(flag.c.id, flag.c.family_id, flag.c.member_id, flag.c.kind),
        raised=False,
        payload=_computed_payload(FlagStatus.CLEARED.value),
        order=lambda f: (f.id,),
    )
    return raised, cleared


def _computed_payload(status: str) -> FlagPayload:
    """The change of a computed flag's event (no after): type, flag id, kind, new status."""
    kind = "flag_raised" if status == FlagStatus.OPEN else "flag_cleared"
    return lambda f: ({"type": kind, "flag_id": f.id, "kind": f.kind, "status": status}, None)


def _scope_select(import_id: str, changed: Any, niks: Any, heads: Any) -> Any:
    m = member
    x = union(
        changed,
        select(m.c.family_id).where(m.c.nik.in_(niks)),
        select(family.c.id).where(family.c.head_nik.in_(heads)),
    ).subquery("x")
    return select(literal(import_id, String), x.c[0])
