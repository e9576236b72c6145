"""Fixing and dismissing queued extract rows. Keyword-only, never commits: the request's transaction does.

A fix is validated with the extract's own rules (`RowValidator`, the domain functions behind it) and merged as
an import row would be: a new member of the KK's family (a head row also corrects the family's head NIK), with
history and a household event. When a family's last open entry is settled, its member_needs_correction flag is
cleared (and the status rules lift the hold if nothing else is open)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.corrections.repository import (
    DISMISSED,
    FIXED,
    OPEN,
    clear_needs_correction,
    close_entry,
    get_entry,
    list_entries,
    open_entries,
)
from services.registry.domain.flags import FlagKind, FlagStatus
from services.registry.domain.identifiers import today_wib
from services.registry.families.changes import Actor, Change, ChangeSet, finish, jsonable
from services.registry.families.models import family, member
from services.registry.families.repository import in_scope as family_in_scope
from services.registry.families.rules import Source
from services.registry.families.service import conflicts_as_problems
from services.registry.imports.extract import COLUMNS, HEAD, Chunk, RowValidator
from services.registry.imports.merge import MEMBER_FIELDS
from shared.audit.changes import note_change
from shared.auth.principal import Principal
from shared.events.envelope import utcnow
from shared.events.household import HouseholdEventType
from shared.http.problems import ProblemError

__all__ = ["dismiss_entry", "fix_entry", "list_entries"]

_POSITIONS = {c: i for i, c in enumerate(COLUMNS)}
_MEMBER_COLUMNS = ("nik", *MEMBER_FIELDS)


def validated_row(entry: dict[str, Any], values: dict[str, str], today: Any) -> dict[str, Any]:
    """The row's raw values with the corrections over them, validated as an extract row: the staged values
    (import_row names), or a 422 naming every failing column and rule."""
    raw = {k: str(v) for k, v in (entry["raw"] or {}).items() if k in _POSITIONS}
    merged = {**raw, **values}
    out = Chunk()
    RowValidator(entry["import_id"], today).row(entry["row_no"], [merged.get(c, "") for c in COLUMNS], _POSITIONS, out)
    if out.errors:
        errors = [{"field": e.field, "reason": e.reason, "message": f"{e.field} breaks {e.reason}"} for e in out.errors]
        fields = ", ".join(e["field"] for e in errors[:5])
        raise ProblemError(422, f"The corrected row is still invalid in: {fields}", code="validation", errors=errors)
    record = out.records[0]
    staged = ("no_kk", "kelurahan_code", "kecamatan_code", "address", "rt", "rw", *_MEMBER_COLUMNS, "desil")
    return dict(zip(staged, record[2:-1], strict=True))


async def _settle(
    session: AsyncSession,
    entry: dict[str, Any],
    changes: ChangeSet,
    actor: Actor,
    now: datetime,
    action: str,
    reason: str | None,
) -> None:
    """History of the entry on its family, and the family's flag cleared once nothing is open any more."""
    family_id = entry["family_id"]
    if family_id is None:
        return
    changes.add(
        family_id,
        Change(
            HouseholdEventType.UPDATED,
            action,
            change={"correction_id": entry["id"], "rule": entry["rule"]},
            before={"correction_id": entry["id"], "status": OPEN},
            after={"correction_id": entry["id"], "status": FIXED if action == "correction_fixed" else DISMISSED},
            reason=reason,
        ),
    )
    if await open_entries(session, family_id) == 0:
        kind = FlagKind.MEMBER_NEEDS_CORRECTION.value
        for flag_id in await clear_needs_correction(session, family_id, actor=actor.subject, now=now):
            changes.add(
                family_id,
                Change(
                    HouseholdEventType.FLAG_RESOLVED,
                    "flag_cleared",
                    change={"flag_id": flag_id, "kind": kind, "status": FlagStatus.CLEARED.value},
                ),
            )


async def fix_entry(
    session: AsyncSession,
    *,
    entry_id: int,
    values: dict[str, str],
    reason: str | None,
    principal: Principal,
    actor: Actor,
) -> dict[str, Any]:
    """Validate the corrected row and add the person to the KK's family; the entry becomes `fixed`."""
    entry = await get_entry(session, principal, entry_id)
    if entry["status"] != OPEN:
        raise ProblemError(409, f"The entry is already {entry['status']}.", code="correction_not_open")
    today = today_wib()
    row = validated_row(entry, values, today)
    target = (
        (
            await session.execute(
                select(family).where(family.c.no_kk == row["no_kk"], family_in_scope(principal)).with_for_update()
            )
        )
        .mappings()
        .first()
    )
    if target is None:
        raise ProblemError(
            422,
            "No family with this No. KK in your wilayah: register the family first.",
            code="validation",
            errors=[{"field": "no_kk", "reason": "no_kk.family_unknown", "message": "no family with this No. KK"}],
        )
    now = utcnow()
    values_in = {c: row[c] for c in _MEMBER_COLUMNS}
    new_member = {
        "id": str(uuid.uuid4()),
        "family_id": target["id"],
        **values_in,
        "deceased": False,
        "active": True,
        # Not dtsen_import: a later extract that still lists the bad row must not deactivate the fixed person.
        "source": Source.IMPORT_CORRECTION.value,
        "created_at": now,
        "updated_at": now,
    }
    async with conflicts_as_problems():
        await session.execute(member.insert().values(new_member))
    changes = ChangeSet()
    changes.add(
        target["id"],
        Change(
            HouseholdEventType.MEMBER_ADDED,
            "member_added",
            change={"member_id": new_member["id"], "relationship": row["relationship"], "correction_id": entry_id},
            after=jsonable({k: v for k, v in new_member.items() if k not in ("created_at", "updated_at")}),
            member_id=new_member["id"],
            reason=reason or f"correction {entry_id} fixed",
        ),
    )
    if row["relationship"] == HEAD and target["head_nik"] != row["nik"]:
        await session.execute(update(family).where(family.c.id == target["id"]).values(head_nik=row["nik"]))
        changes.removed_head_niks.add(target["head_nik"])
        changes.add(
            target["id"],
            Change(
                HouseholdEventType.UPDATED,
                "updated",
                change={"fields": ["head_nik"]},
                before={"head_nik": target["head_nik"]},
                after={"head_nik": row["nik"]},
                reason=reason,
            ),
        )
    settled = {
        "status": FIXED,
        "resolved_by": actor.subject,
        "resolved_role": actor.role,
        "resolved_at": now,
        "resolution_reason": reason,
        "member_id": new_member["id"],
        "family_id": entry["family_id"] or target["id"],
    }
    await close_entry(session, entry_id, settled)
    entry.update(settled)
    note_change(
        record_type="correction",
        record_id=str(entry_id),
        action="correction_fixed",
        before={"status": OPEN},
        after={"status": FIXED, "member_id": new_member["id"], "fields": sorted(values)},
    )
    await _settle(session, entry, changes, actor, now, "correction_fixed", reason)
    await finish(session, changes, actor, now=now)
    return await get_entry(session, principal, entry_id)


async def dismiss_entry(
    session: AsyncSession, *, entry_id: int, reason: str, principal: Principal, actor: Actor
) -> dict[str, Any]:
    """Set an open entry aside for good, with the reason (e.g. the person is already on the right KK)."""
    entry = await get_entry(session, principal, entry_id)
    if entry["status"] != OPEN:
        raise ProblemError(409, f"The entry is already {entry['status']}.", code="correction_not_open")
    now = utcnow()
    settled = {
        "status": DISMISSED,
        "resolved_by": actor.subject,
        "resolved_role": actor.role,
        "resolved_at": now,
        "resolution_reason": reason,
    }
    await close_entry(session, entry_id, settled)
    note_change(
        record_type="correction",
        record_id=str(entry_id),
        action="correction_dismissed",
        before={"status": OPEN},
        after={"status": DISMISSED, "reason": reason},
    )
    changes = ChangeSet()
    await _settle(session, entry, changes, actor, now, "correction_dismissed", reason)
    if changes.by_family:
        await finish(session, changes, actor, now=now)
    return await get_entry(session, principal, entry_id)
