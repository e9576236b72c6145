"""Write operations on families and members. Keyword-only, never commit: the request's transaction does."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.domain.flags import FlagKind
from services.registry.domain.identifiers import IdentifierError, today_wib, validate_nik
from services.registry.families import repository
from services.registry.families.changes import Actor, Change, ChangeSet, finish, jsonable, set_status
from services.registry.families.computed_flags import flag_kinds_by_family
from services.registry.families.models import family, member
from services.registry.families.privacy import Viewer, present_family, record_access, redact
from services.registry.families.repository import DetailKey, FamilyDetail, get_family_row, get_member_row
from services.registry.families.rules import EXISTENCE_FOR_REASON
from services.registry.families.schemas import (
    Deactivate,
    DeceasedCorrection,
    FamilyCreate,
    FamilyFilter,
    FamilyOut,
    FamilyPage,
    FamilyPatch,
    HistoryEntry,
    MarkDeceased,
    MemberCreate,
    MemberOut,
    MemberPatch,
    MoveMember,
)
from services.registry.families.state import FamilyFacts, load_facts
from services.registry.families.validation import (
    Errors,
    check_kelurahan,
    check_member_dates,
    check_nik,
    check_no_kk,
    check_rt_rw,
)
from shared.auth.principal import Principal
from shared.events.envelope import utcnow
from shared.events.household import DataStatus, HouseholdEventType
from shared.http.problems import ProblemError

# Constraint names (PostgreSQL) and column lists (SQLite) → the field a conflict is about.
_CONFLICTS = (
    (
        re.compile(r"uq_member_active_nik|member\.nik"),
        "nik",
        "nik.already_active",
        "This NIK is already active in another family.",
    ),
    (
        re.compile(r"uq_family_no_kk|family\.no_kk"),
        "no_kk",
        "no_kk.exists",
        "A family with this No. KK already exists.",
    ),
)


@asynccontextmanager
async def conflicts_as_problems() -> AsyncIterator[None]:
    """Turn the database's uniqueness and key guards into 409/422 problems instead of a 500."""
    try:
        yield
    except IntegrityError as exc:
        text = str(exc.orig)
        for pattern, field, reason, detail in _CONFLICTS:
            if pattern.search(text):
                raise ProblemError(409, detail, code=reason, errors=[{"field": field, "reason": reason}]) from None
        if "fk_family_kelurahan" in text or "FOREIGN KEY" in text:
            raise ProblemError(
                422,
                "kelurahan_code does not exist",
                code="validation",
                errors=[{"field": "kelurahan_code", "reason": "wilayah.unknown_kelurahan"}],
            ) from None
        raise


def check_version(row: dict[str, Any], expected: int | None) -> None:
    """Optimistic concurrency: 428 without If-Match, 412 (with the current version) when stale."""
    if expected is None:
        raise ProblemError(
            428, "This change needs an If-Match header with the family's ETag.", code="if_match_required"
        )
    if int(row["version"]) != expected:
        raise ProblemError(
            412,
            "The family changed since you read it; reload and retry.",
            code="version_conflict",
            current_version=int(row["version"]),
            headers={"ETag": f'"{row["version"]}"'},
        )


def _writable(principal: Principal, kelurahan_code: str) -> None:
    if not principal.covers(kelurahan_code):
        raise ProblemError(403, "That kelurahan is outside your wilayah.", code="out_of_scope")


def nik_issue(nik: str, today: date) -> str | None:
    """The rule a NIK breaks (e.g. nik.bad_day), or None: what member.nik_issue stores for legacy data."""
    try:
        validate_nik(nik, today=today)
    except IdentifierError as exc:
        return exc.field_reason
    return None


def _member_values(data: MemberCreate, family_id: str, source: str, today: date) -> dict[str, Any]:
    info = validate_nik(data.nik, today=today)  # already checked; gives the defaults below
    now = utcnow()
    return {
        "id": str(uuid.uuid4()),
        "family_id": family_id,
        "nik": data.nik,
        "nik_issue": None,
        "name": data.name,
        "birth_place": data.birth_place,
        # The NIK encodes the birth date and sex: use them when the form left them out.
        "birth_date": data.birth_date or info.birth_date,
        "sex": data.sex or info.sex,
        "relationship": data.relationship.value,
        "marital_status": data.marital_status,
        "education": data.education,
        "school_status": data.school_status,
        "occupation": data.occupation,
        "disability": data.disability,
        "pregnant": data.pregnant,
        "deceased": False,
        "active": True,
        "source": source,
        "created_at": now,
        "updated_at": now,
    }


def _check_member(errors: Errors, prefix: str, data: MemberCreate | MemberPatch, today: date) -> None:
    info = check_nik(errors, f"{prefix}nik", data.nik, today) if data.nik is not None else None
    check_member_dates(errors, prefix, info, data.birth_date, today)


async def create_family(session: AsyncSession, *, data: FamilyCreate, principal: Principal, actor: Actor) -> str:
    """Register a family and its members; returns the new household id."""
    today = today_wib()
    errors = Errors()
    check_no_kk(errors, "no_kk", data.no_kk, today)
    check_nik(errors, "head_nik", data.head_nik, today)
    rt = check_rt_rw(errors, "rt", data.rt)
    rw = check_rt_rw(errors, "rw", data.rw)
    kecamatan = check_kelurahan(errors, "kelurahan_code", data.kelurahan_code)
    seen: set[str] = set()
    for i, m in enumerate(data.members):
        _check_member(errors, f"members.{i}.", m, today)
        if m.nik in seen:
            errors.add(f"members.{i}.nik", "nik.repeated", "the same NIK appears twice in this family")
        seen.add(m.nik)
    errors.raise_if_any()
    _writable(principal, data.kelurahan_code)
    family_id = str(uuid.uuid4())
    now = utcnow()
    values = {
        "id": family_id,
        "no_kk": data.no_kk,
        "head_nik": data.head_nik,
        "address": data.address,
        "rt": rt,
        "rw": rw,
        "kelurahan_code": data.kelurahan_code,
        "kecamatan_code": kecamatan,
        "latitude": data.latitude,
        "longitude": data.longitude,
        "existence_status": "present",
        "data_status": DataStatus.ACTIVE.value,
        "source": data.source.value,
        # 0 until `finish` bumps it: the registered event carries version 1.
        "version": 0,
        "created_at": now,
        "created_by": actor.subject,
        "updated_at": now,
        "updated_by": actor.subject,
    }
    members = [_member_values(m, family_id, data.source.value, today) for m in data.members]
    values["recipient_member_id"] = next((m["id"] for m in members if m["nik"] == data.head_nik), None)
    async with conflicts_as_problems():
        await session.execute(insert(family).values(values))
        if members:
            await session.execute(insert(member), members)
    changes = ChangeSet()
    changes.add(
        family_id,
        Change(
            HouseholdEventType.REGISTERED,
            "registered",
            change={"source": data.source.value, "members": len(members)},
            after=jsonable({**values, "members": [jsonable(m) for m in members]}),
        ),
    )
    await finish(session, changes, actor)
    return family_id


async def update_family(
    session: AsyncSession,
    *,
    family_id: str,
    patch: FamilyPatch,
    expected_version: int | None,
    principal: Principal,
    actor: Actor,
) -> None:
    """Change a family's identifiers or address (PATCH semantics: only the fields sent)."""
    today = today_wib()
    row = await get_family_row(session, principal, family_id, for_update=True)
    check_version(row, expected_version)
    sent = patch.model_dump(exclude_unset=True)
    errors = Errors()
    for key in ("no_kk", "head_nik", "address", "rt", "rw", "kelurahan_code"):
        if key in sent and sent[key] is None:
            errors.add(key, f"{key}.required", f"{key} cannot be removed")
    errors.raise_if_any()
    if "no_kk" in sent:
        check_no_kk(errors, "no_kk", sent["no_kk"], today)
    if "head_nik" in sent:
        check_nik(errors, "head_nik", sent["head_nik"], today)
    for key in ("rt", "rw"):
        if key in sent:
            sent[key] = check_rt_rw(errors, key, sent[key])
    if "kelurahan_code" in sent:
        sent["kecamatan_code"] = check_kelurahan(errors, "kelurahan_code", sent["kelurahan_code"])
    errors.raise_if_any()
    if "kelurahan_code" in sent:
        _writable(principal, sent["kelurahan_code"])
    changed = {k: v for k, v in sent.items() if row.get(k) != v}
    if not changed:
        return
    async with conflicts_as_problems():
        await session.execute(update(family).where(family.c.id == family_id).values(**changed))
    changes = ChangeSet()
    if "head_nik" in changed:
        changes.removed_head_niks.add(row["head_nik"])
    changes.add(
        family_id,
        Change(
            HouseholdEventType.UPDATED,
            "updated",
            change={"fields": sorted(k for k in changed if k != "kecamatan_code")},
            before=jsonable({k: row[k] for k in changed}),
            after=jsonable(changed),
        ),
    )
    await finish(session, changes, actor)


async def add_member(
    session: AsyncSession,
    *,
    family_id: str,
    data: MemberCreate,
    expected_version: int | None,
    principal: Principal,
    actor: Actor,
) -> str:
    """Add a person to a family; the database refuses a NIK already active elsewhere (409)."""
    today = today_wib()
    row = await get_family_row(session, principal, family_id, for_update=True)
    check_version(row, expected_version)
    errors = Errors()
    _check_member(errors, "", data, today)
    errors.raise_if_any()
    if row["data_status"] == DataStatus.INACTIVE:
        raise ProblemError(409, "The family is inactive.", code="family_inactive")
    values = _member_values(data, family_id, "local_proposal", today)
    async with conflicts_as_problems():
        await session.execute(insert(member).values(values))
    changes = ChangeSet()
    changes.add(
        family_id,
        Change(
            HouseholdEventType.MEMBER_ADDED,
            "member_added",
            change={"member_id": values["id"], "relationship": values["relationship"]},
            after=jsonable(values),
            member_id=values["id"],
        ),
    )
    await finish(session, changes, actor)
    return str(values["id"])


async def update_member(
    session: AsyncSession,
    *,
    member_id: str,
    patch: MemberPatch,
    expected_version: int | None,
    principal: Principal,
    actor: Actor,
) -> str:
    """Change a member's attributes (a NIK change is a correction); returns the family id."""
    today = today_wib()
    current = await get_member_row(session, principal, member_id)
    row = await get_family_row(session, principal, current["family_id"], for_update=True)
    check_version(row, expected_version)
    sent = patch.model_dump(exclude_unset=True)
    errors = Errors()
    for key in ("nik", "name", "relationship"):
        if key in sent and sent[key] is None:
            errors.add(key, f"{key}.required", f"{key} cannot be removed")
    errors.raise_if_any()
    _check_member(errors, "", patch, today)
    errors.raise_if_any()
    if "nik" in sent:
        sent["nik_issue"] = None
    changed = {k: (v.value if hasattr(v, "value") else v) for k, v in sent.items() if current.get(k) != v}
    if not changed:
        return str(row["id"])
    changed["updated_at"] = utcnow()
    async with conflicts_as_problems():
        await session.execute(update(member).where(member.c.id == member_id).values(**changed))
    changes = ChangeSet()
    if "nik" in changed:
        changes.removed_niks.add(current["nik"])
    fields = sorted(k for k in changed if k not in {"updated_at", "nik_issue"})
    changes.add(
        row["id"],
        Change(
            HouseholdEventType.UPDATED,
            "member_updated",
            change={"member_id": member_id, "fields": fields},
            before=jsonable({k: current[k] for k in fields}),
            after=jsonable({k: changed[k] for k in fields}),
            member_id=member_id,
        ),
    )
    await finish(session, changes, actor)
    return str(row["id"])


async def move_member(
    session: AsyncSession,
    *,
    member_id: str,
    data: MoveMember,
    expected_version: int | None,
    principal: Principal,
    actor: Actor,
) -> tuple[str, str]:
    """Move a person to another family (same row, new family_id); returns (source, target) family ids."""
    current = await get_member_row(session, principal, member_id)
    source_id, target_id = current["family_id"], data.target_family_id
    if source_id == target_id:
        raise ProblemError(
            422,
            "The member is already in that family.",
            code="validation",
            errors=[{"field": "target_family_id", "reason": "target.same_family"}],
        )
    # Lock both families in id order so two opposite moves cannot deadlock.
    rows = {
        fid: await get_family_row(session, principal, fid, for_update=True) for fid in sorted((source_id, target_id))
    }
    check_version(rows[source_id], expected_version)
    if not current["active"] or current["deceased"]:
        raise ProblemError(409, "Only an active, living member can move.", code="member_not_movable")
    if rows[target_id]["data_status"] == DataStatus.INACTIVE:
        raise ProblemError(409, "The target family is inactive.", code="family_inactive")
    values: dict[str, Any] = {"family_id": target_id, "updated_at": utcnow()}
    if data.relationship is not None:
        values["relationship"] = data.relationship.value
    await session.execute(update(member).where(member.c.id == member_id).values(**values))
    changes = ChangeSet()
    moved = {"member_id": member_id, "to_family": target_id, "from_family": source_id}
    changes.add(
        source_id,
        Change(
            HouseholdEventType.MEMBER_REMOVED,
            "member_moved_out",
            change={"member_id": member_id, "reason": "moved", "to_family": target_id},
            before=jsonable({"family_id": source_id, "relationship": current["relationship"]}),
            after=moved,
            member_id=member_id,
            reason=data.reason,
        ),
    )
    changes.add(
        target_id,
        Change(
            HouseholdEventType.MEMBER_ADDED,
            "member_moved_in",
            change={"member_id": member_id, "reason": "moved", "from_family": source_id},
            before=None,
            after=jsonable({**moved, "relationship": values.get("relationship", current["relationship"])}),
            member_id=member_id,
            reason=data.reason,
        ),
    )
    await finish(session, changes, actor)
    return source_id, target_id


async def mark_deceased(
    session: AsyncSession,
    *,
    member_id: str,
    data: MarkDeceased,
    expected_version: int | None,
    principal: Principal,
    actor: Actor,
    reason: str | None = None,
) -> str:
    """Record a death (irreversible except by an audited correction); returns the family id."""
    current = await get_member_row(session, principal, member_id)
    row = await get_family_row(session, principal, current["family_id"], for_update=True)
    check_version(row, expected_version)
    await record_death(
        session,
        member_row=current,
        deceased_date=data.deceased_date,
        certificate_no=data.death_certificate_no,
        actor=actor,
        reason=reason,
    )
    return str(row["id"])


async def record_death(
    session: AsyncSession,
    *,
    member_row: dict[str, Any],
    deceased_date: date | None,
    certificate_no: str | None,
    actor: Actor,
    reason: str | None = None,
    changes: ChangeSet | None = None,
) -> None:
    """Mark a member deceased and finish (or add to `changes` if the caller finishes)."""
    today = today_wib()
    errors = Errors()
    if deceased_date is not None and deceased_date > today:
        errors.add("deceased_date", "deceased_date.future", "date of death is in the future")
    if deceased_date is not None and member_row["birth_date"] and deceased_date < member_row["birth_date"]:
        errors.add("deceased_date", "deceased_date.before_birth", "date of death is before the birth date")
    errors.raise_if_any()
    if member_row["deceased"]:
        raise ProblemError(409, "The member is already recorded as deceased.", code="already_deceased")
    values = {
        "deceased": True,
        "deceased_date": deceased_date,
        "death_certificate_no": certificate_no,
        "updated_at": utcnow(),
    }
    await session.execute(update(member).where(member.c.id == member_row["id"]).values(**values))
    own = changes is None
    cs = changes or ChangeSet()
    cs.add(
        member_row["family_id"],
        Change(
            HouseholdEventType.MEMBER_DECEASED,
            "member_deceased",
            change={"member_id": member_row["id"]},
            before={"deceased": False},
            after=jsonable({k: v for k, v in values.items() if k != "updated_at"}),
            member_id=member_row["id"],
            reason=reason,
        ),
    )
    if own:
        await finish(session, cs, actor)


async def correct_deceased(
    session: AsyncSession,
    *,
    member_id: str,
    data: DeceasedCorrection,
    expected_version: int | None,
    principal: Principal,
    actor: Actor,
) -> str:
    """Undo a wrongly recorded death; the correction and its reason stay in the history."""
    current = await get_member_row(session, principal, member_id)
    row = await get_family_row(session, principal, current["family_id"], for_update=True)
    check_version(row, expected_version)
    if not current["deceased"]:
        raise ProblemError(409, "The member is not recorded as deceased.", code="not_deceased")
    await session.execute(
        update(member)
        .where(member.c.id == member_id)
        .values(deceased=False, deceased_date=None, death_certificate_no=None, updated_at=utcnow())
    )
    changes = ChangeSet()
    changes.add(
        row["id"],
        Change(
            HouseholdEventType.UPDATED,
            "deceased_corrected",
            change={"member_id": member_id, "fields": ["deceased"]},
            before=jsonable({k: current[k] for k in ("deceased", "deceased_date", "death_certificate_no")}),
            after={"deceased": False},
            member_id=member_id,
            reason=data.reason,
        ),
    )
    await finish(session, changes, actor)
    return str(row["id"])


async def deactivate_family(
    session: AsyncSession,
    *,
    family_id: str,
    data: Deactivate,
    expected_version: int | None,
    principal: Principal,
    actor: Actor,
) -> None:
    """Make a family inactive with a reason (DOMAIN §4)."""
    row = await get_family_row(session, principal, family_id, for_update=True)
    check_version(row, expected_version)
    if row["data_status"] == DataStatus.INACTIVE:
        raise ProblemError(409, "The family is already inactive.", code="already_inactive")
    facts = await load_facts(session, [family_id])
    changes = ChangeSet()
    changes.touch(family_id)
    fam: FamilyFacts = facts[family_id]
    existence = EXISTENCE_FOR_REASON.get(data.reason, row["existence_status"])
    set_status(fam, changes, DataStatus.INACTIVE, data.reason.value, existence, why=data.note)
    await _write_status(session, fam)
    await finish(session, changes, actor)


async def _write_status(session: AsyncSession, fam: FamilyFacts) -> None:
    # `finish` reloads facts, so a status decided before it must be in the row already.
    row = fam.row
    row.pop("_status_dirty", None)
    await session.execute(
        update(family)
        .where(family.c.id == row["id"])
        .values(
            data_status=row["data_status"], status_reason=row["status_reason"], existence_status=row["existence_status"]
        )
    )


# Reads: what a viewer may see of families and members, with the personal-data access it records.


def family_filter(
    *,
    kecamatan: str | None,
    kelurahan: str | None,
    desil_min: int | None,
    desil_max: int | None,
    data_status: DataStatus | None,
    flag: str | None,
    name: str | None,
) -> FamilyFilter:
    """The filters of a family list or count; 422 for an unknown flag kind."""
    if flag is not None and flag != "any" and flag not in {k.value for k in FlagKind}:
        raise ProblemError(
            422, "unknown flag kind", code="validation", errors=[{"field": "flag", "reason": "flag.unknown_kind"}]
        )
    return FamilyFilter(
        kecamatan=kecamatan,
        kelurahan=kelurahan,
        desil_min=desil_min,
        desil_max=desil_max,
        data_status=data_status.value if data_status else None,
        flag=flag,
        name=name,
    )


def _present(detail: FamilyDetail, viewer: Viewer) -> FamilyOut:
    return present_family(
        detail.family, viewer, open_flags=detail.open_flags, members=detail.members, today=today_wib()
    )


async def family_detail(session: AsyncSession, viewer: Viewer, family_id: str) -> FamilyOut:
    """A family with members for this viewer (404 outside scope)."""
    detail = await repository.family_detail_row(session, viewer.principal, "id", family_id)
    if detail is None:
        raise ProblemError(404, "No such family in your wilayah.", code="family_not_found")
    return _present(detail, viewer)


async def list_families(
    session: AsyncSession, *, viewer: Viewer, filters: FamilyFilter, cursor: str | None, limit: int
) -> FamilyPage:
    """One page of families in the viewer's wilayah, in (kelurahan, id) order; records revealed identifiers."""
    query = repository.list_query(viewer.principal, filters, cursor, limit)
    rows = [dict(r) for r in (await session.execute(query)).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    kinds = await flag_kinds_by_family(session, [r["id"] for r in rows])
    today = today_wib()
    items = [present_family(r, viewer, open_flags=kinds[r["id"]][0], members=None, today=today) for r in rows]
    await record_access(session, viewer, [(r["id"], None) for r in rows], "no_kk,head_nik")
    nxt = repository.encode_cursor(rows[-1]["kelurahan_code"], rows[-1]["id"]) if more and rows else None
    return FamilyPage(items=items, next_cursor=nxt)


async def count_families(session: AsyncSession, *, principal: Principal, filters: FamilyFilter) -> int:
    """How many families in the caller's wilayah match the filters."""
    return await repository.count_families(session, principal, filters)


async def read_family(session: AsyncSession, *, viewer: Viewer, family_id: str) -> FamilyOut:
    """A family with its members; records the identifiers revealed."""
    out = await family_detail(session, viewer, family_id)
    await record_access(
        session, viewer, [(family_id, None)] + [(family_id, m.id) for m in out.members or []], "no_kk,nik,birth_date"
    )
    return out


async def read_members(session: AsyncSession, *, viewer: Viewer, family_id: str) -> list[MemberOut]:
    """The members of a family; records the identifiers revealed."""
    out = await family_detail(session, viewer, family_id)
    await record_access(session, viewer, [(family_id, m.id) for m in out.members or []], "nik,birth_date")
    return out.members or []


async def read_member(session: AsyncSession, *, viewer: Viewer, member_id: str) -> tuple[MemberOut, int]:
    """One member and its family's version (the member's ETag); records the identifiers revealed."""
    current = await get_member_row(session, viewer.principal, member_id)
    out = await family_detail(session, viewer, current["family_id"])
    await record_access(session, viewer, [(current["family_id"], member_id)], "nik,birth_date")
    return next(m for m in out.members or [] if m.id == member_id), out.version


async def family_changes(session: AsyncSession, *, viewer: Viewer, family_id: str, limit: int) -> list[HistoryEntry]:
    """Every recorded change of a family, oldest first, identifiers redacted for this viewer."""
    await get_family_row(session, viewer.principal, family_id)
    rows = await repository.history_rows(session, family_id, limit)
    await record_access(session, viewer, [(family_id, None)], "history")
    return [
        HistoryEntry(
            id=r.id,
            version=r.version,
            action=r.action,
            actor=r.actor,
            actor_role=r.actor_role,
            at=r.at,
            reason=r.reason,
            member_id=r.member_id,
            before=redact(r.before, viewer),
            after=redact(r.after, viewer),
        )
        for r in rows
    ]


_LOOKUP_MISSING: dict[DetailKey, str] = {
    "nik": "No active member with this NIK in your wilayah.",
    "no_kk": "No family with this No. KK in your wilayah.",
}


async def lookup(session: AsyncSession, *, viewer: Viewer, by: DetailKey, key: str) -> FamilyOut:
    """The family of an active NIK or of a No. KK, in the viewer's scope (outside it answers like unknown)."""
    if not viewer.reveal:
        await repository.read_only(session)
    detail = await repository.family_detail_row(session, viewer.principal, by, key)
    if detail is None:
        raise ProblemError(404, _LOOKUP_MISSING[by], code="not_found")
    out = _present(detail, viewer)
    # Last, so the audit chain's lock (held until the commit) waits on nothing else of this request. A NIK lookup
    # records every member it reveals, a No. KK lookup the family.
    targets = [(out.id, m.id) for m in out.members or []] if by == "nik" else [(out.id, None)]
    await record_access(session, viewer, targets, "nik,no_kk,birth_date")
    return out
