"""The one path every change to a family takes: recompute flags, apply status rules, bump the version,
write history and emit one registry.household.v1 event per change, all in the caller's transaction."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.database import messaging
from services.registry.families.computed_flags import refresh_computed_flags
from services.registry.families.models import family, family_history
from services.registry.families.rules import status_after_change
from services.registry.families.state import FamilyFacts, household_state, load_facts
from shared.audit.changes import note_change
from shared.auth.principal import Principal
from shared.context import request_id_var
from shared.events.envelope import utcnow
from shared.events.household import DataStatus, HouseholdEventType
from shared.events.topics import REGISTRY_HOUSEHOLD
from shared.http.problems import ProblemError
from shared.outbox.writer import OutboxWriter

OUTBOX = OutboxWriter(source="registry", table=messaging.outbox)


@dataclass(frozen=True)
class Actor:
    """Who made a change: a user (subject + role) or a system component."""

    subject: str
    role: str


SYSTEM_ACTOR = Actor("system", "system")


def actor_of(principal: Principal) -> Actor:
    """The history/audit actor of a caller."""
    return Actor(principal.subject, str(principal.role))


@dataclass
class Change:
    """One change to a family: one history row and one event."""

    event_type: HouseholdEventType
    action: str
    change: dict[str, Any] = field(default_factory=dict)  # codes only: it goes into the PII-free event
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    member_id: str | None = None
    reason: str | None = None


@dataclass
class ChangeSet:
    """The changes of one unit of work, per family, plus identifiers the change removed."""

    by_family: dict[str, list[Change]] = field(default_factory=lambda: defaultdict(list))
    removed_niks: set[str] = field(default_factory=set)
    removed_head_niks: set[str] = field(default_factory=set)

    def add(self, family_id: str, change: Change) -> None:
        """Record a change of a family."""
        self.by_family[family_id].append(change)

    def touch(self, family_id: str) -> None:
        """Include a family in the flag/status recomputation without a change of its own."""
        self.by_family.setdefault(family_id, [])


def jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """A row as JSON-safe values (dates and datetimes as ISO text) for history snapshots."""
    return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in values.items()}


async def finish(
    session: AsyncSession,
    changes: ChangeSet,
    actor: Actor,
    *,
    causation_id: UUID | None = None,
    causation_by_family: dict[str, UUID] | None = None,
    now: datetime | None = None,
    today: date | None = None,
) -> dict[str, FamilyFacts]:
    """Complete a unit of work; returns the families' facts after it (version = new ETag)."""
    from services.registry.domain.identifiers import today_wib

    now = now or utcnow()
    today = today or today_wib()
    deltas = await refresh_computed_flags(
        session,
        family_ids=list(changes.by_family),
        niks=changes.removed_niks,
        head_niks=changes.removed_head_niks,
        now=now,
    )
    for d in deltas:
        raised = d.change == "raised"
        changes.add(
            d.family_id,
            Change(
                HouseholdEventType.FLAGGED if raised else HouseholdEventType.FLAG_RESOLVED,
                "flag_raised" if raised else "flag_cleared",
                change={"flag_id": d.flag_id, "kind": d.kind, "status": "open" if raised else "cleared"},
                member_id=d.member_id,
            ),
        )
    facts = await load_facts(session, list(changes.by_family))
    for fid, fam in facts.items():
        apply_status_rules(fam, changes)
        cause = (causation_by_family or {}).get(fid, causation_id)
        await _commit_family(session, fam, changes.by_family[fid], actor, now, today, cause)
    return facts


def apply_status_rules(fam: FamilyFacts, changes: ChangeSet) -> None:
    """Derive the family's status from its flags and members; record a status change if it moved."""
    row = fam.row
    decision = status_after_change(
        data_status=DataStatus(row["data_status"]),
        reason=row["status_reason"],
        existence_status=row["existence_status"],
        open_flags=fam.open_flags,
        confirmed_flags=fam.confirmed_flags,
        living_members=fam.living_members,
        any_members=fam.any_members,
    )
    set_status(fam, changes, decision.data_status, decision.reason, decision.existence_status)


def set_status(
    fam: FamilyFacts,
    changes: ChangeSet,
    status: DataStatus,
    reason: str | None,
    existence: str,
    *,
    why: str | None = None,
) -> bool:
    """Change the status in the facts (written by `finish`) and record a status_changed change; False if same."""
    row = fam.row
    before = {k: row[k] for k in ("data_status", "status_reason", "existence_status")}
    after = {"data_status": status.value, "status_reason": reason, "existence_status": existence}
    if before == after:
        return False
    row.update(after)
    row["_status_dirty"] = True
    changes.add(
        row["id"],
        Change(
            HouseholdEventType.STATUS_CHANGED,
            "status_changed",
            change={"from": before["data_status"], "to": status.value, "reason": reason},
            before=before,
            after=after,
            reason=why,
        ),
    )
    return True


async def _commit_family(
    session: AsyncSession,
    fam: FamilyFacts,
    items: list[Change],
    actor: Actor,
    now: datetime,
    today: date,
    causation_id: UUID | None,
) -> None:
    if not items:
        return
    row = fam.row
    old_version = int(row["version"])
    new_version = old_version + len(items)
    values: dict[str, Any] = {"version": new_version, "updated_at": now, "updated_by": actor.subject}
    if row.pop("_status_dirty", False):
        values.update({k: row[k] for k in ("data_status", "status_reason", "existence_status")})
    result = await session.execute(
        update(family).where(family.c.id == row["id"], family.c.version == old_version).values(**values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ProblemError(412, "The family was changed by someone else; reload it.", code="version_conflict")
    row.update(values)
    await session.execute(
        insert(family_history),
        [
            {
                "family_id": row["id"],
                "member_id": c.member_id,
                "version": old_version + i + 1,
                "action": c.action,
                "actor": actor.subject,
                "actor_role": actor.role,
                "at": now,
                "reason": c.reason,
                "before": c.before,
                "after": c.after,
                "request_id": request_id_var.get(),
            }
            for i, c in enumerate(items)
        ],
    )
    for c in items:
        note_change(record_type="family", record_id=row["id"], action=c.action, before=c.before, after=c.after)
    for i, c in enumerate(items):
        await OUTBOX.add(
            session,
            topic=REGISTRY_HOUSEHOLD,
            event_type=c.event_type,
            subject=row["id"],
            aggregate_version=old_version + i + 1,
            data=household_state(fam, today, {"type": c.action, **c.change}),
            causation_id=causation_id,
        )
