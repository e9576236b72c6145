"""Tahap use cases: create, generate (freeze) the list, approve (maker-checker), cancel, pay, close, compare."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.households.repository import flags_of
from services.disbursement.payments.enrolment import apply_approved_list
from services.disbursement.payments.holds import sync_flag_holds
from services.disbursement.payments.recipient_holds import hold_new_lines_of_dead_recipients
from services.disbursement.programmes.eligibility import frozen_inputs
from services.disbursement.programmes.repository import get_rule_by_id
from services.disbursement.programmes.rules import RuleDefinition, flag_hold_reason, holding_hits
from services.disbursement.programmes.schemas import FrozenInputs
from services.disbursement.programmes.service import require_programme, resolve_rule
from services.disbursement.scope import within_scope
from services.disbursement.tahap import repository as repo
from services.disbursement.tahap.changes import tahap_changes
from services.disbursement.tahap.schemas import ListDiff, ListRow, TahapChanges, TahapIn, TahapOut
from services.disbursement.tahap_state.models import tahap, tahap_list
from services.disbursement.tahap_state.repository import guarded_update
from services.disbursement.tahap_state.service import require_tahap, transition
from shared.auth.principal import Principal, ScopeLevel
from shared.events.envelope import utcnow
from shared.http.problems import ProblemError
from shared.privacy.policy import withhold


def tahap_out(row: RowMapping) -> TahapOut:
    """Response body of a tahap row."""
    return TahapOut.model_validate(dict(row))


async def scoped_tahap_out(session: AsyncSession, row: RowMapping, principal: Principal) -> TahapOut:
    """A tahap as the caller may see it: below kota scope, its list totals count only the caller's wilayah."""
    out = tahap_out(row)
    if principal.scope_level is ScopeLevel.KOTA or not out.generation:
        return out
    key = await repo.list_key(session, out.id)
    count, total = await repo.list_totals(session, key, out.generation, scope=principal)
    return out.model_copy(update={"listed_count": count, "total_amount": total})


async def create_tahap(session: AsyncSession, *, body: TahapIn, principal: Principal) -> TahapOut:
    """Open a draft tahap bound to a rule version (409 if the label exists for the programme)."""
    await require_programme(session, body.programme_code)
    rule = await resolve_rule(session, code=body.programme_code, version=body.rule_version, as_of=body.as_of)
    existing = [r for r in await repo.list_tahap(session, body.programme_code) if r["label"] == body.label]
    if existing:
        raise ProblemError(
            409, f"Tahap {body.label} of {body.programme_code} exists.", code="exists", tahap_id=existing[0]["id"]
        )
    now = utcnow()
    tahap_id = str(uuid.uuid4())
    await repo.insert_tahap(
        session,
        {
            "id": tahap_id,
            "programme_code": body.programme_code,
            "label": body.label,
            "as_of": body.as_of,
            "rule_version_id": rule["id"],
            "status": "draft",
            "generation": 0,
            "listed_count": 0,
            "total_amount": 0,
            "created_by": principal.subject,
            "created_at": now,
            "updated_at": now,
        },
    )
    return tahap_out(await require_tahap(session, tahap_id))


async def generate(session: AsyncSession, *, tahap_id: str, principal: Principal) -> ListDiff:
    """Freeze (or re-freeze) the list from today's read model; returns the diff against the previous generation."""
    now = utcnow()
    # The guarded UPDATE is the lock: a concurrent generate waits here, then builds the next generation.
    row = await transition(
        session,
        tahap_id,
        "generate",
        {"generation": tahap.c.generation + 1, "prepared_by": principal.subject, "prepared_at": now},
    )
    generation = int(row["generation"])
    key = await repo.list_key(session, tahap_id)
    rule_row = await get_rule_by_id(session, row["rule_version_id"])
    assert rule_row is not None
    rule = RuleDefinition.model_validate_json(rule_row["definition"])
    await repo.freeze_list(session, key=key, generation=generation, rule=rule, as_of=row["as_of"])
    digest, count, total = await repo.list_summary(session, key, generation)
    diff = await repo.diff_counts(session, key, generation, count)
    await repo.sync_planned_lines(
        session, key=key, tahap_id=tahap_id, programme_code=row["programme_code"], generation=generation, now=now
    )
    await sync_flag_holds(session, tahap_id=tahap_id, rule=rule, now=now)
    # A dead recipient holds the line whatever the rule says (payments/recipient_holds.py).
    await hold_new_lines_of_dead_recipients(session, tahap_id=tahap_id)
    await repo.drop_old_generations(session, key, generation - 1)
    await repo.insert_generation(
        session,
        {
            "tahap_id": tahap_id,
            "generation": generation,
            "generated_by": principal.subject,
            "generated_at": now,
            "list_hash": digest,
            "listed_count": count,
            "total_amount": total,
            **diff,
        },
    )
    await guarded_update(
        session,
        tahap_id,
        frozenset({"list_generated"}),
        {"list_hash": digest, "listed_count": count, "total_amount": total},
    )
    return await list_diff(session, tahap_id=tahap_id, limit=100)


async def list_diff(session: AsyncSession, *, tahap_id: str, limit: int) -> ListDiff:
    """The newest generation of a list against the one before it."""
    row = await require_tahap(session, tahap_id)
    generation = int(row["generation"])
    if generation == 0:
        raise ProblemError(
            409, "No list has been generated for this tahap yet.", code="invalid_state", current_status=row["status"]
        )
    gen = await repo.get_generation(session, tahap_id, generation)
    prev = await repo.get_generation(session, tahap_id, generation - 1) if generation > 1 else None
    assert gen is not None
    counts = {name: int(gen[name]) for name in ("added", "removed", "changed")}
    ids = await repo.diff_ids(session, await repo.list_key(session, tahap_id), generation, limit, counts)
    return ListDiff(
        generation=generation,
        previous_generation=generation - 1 if prev is not None else None,
        list_hash=gen["list_hash"],
        previous_hash=prev["list_hash"] if prev is not None else None,
        listed_count=gen["listed_count"],
        total_amount=gen["total_amount"],
        added=gen["added"],
        removed=gen["removed"],
        changed=gen["changed"],
        added_ids=ids["added"],
        removed_ids=ids["removed"],
        changed_ids=ids["changed"],
    )


async def approve(session: AsyncSession, *, tahap_id: str, principal: Principal) -> TahapOut:
    """Approve the frozen list (never by its preparer); enrolments move and enrolment.changed is emitted."""
    current = await require_tahap(session, tahap_id)
    if current["prepared_by"] == principal.subject:
        raise ProblemError(403, "The preparer of a tahap list may not approve it.", code="maker_checker")
    now = utcnow()
    row = await transition(session, tahap_id, "approve", {"approved_by": principal.subject, "approved_at": now})
    if row["prepared_by"] == principal.subject:
        raise ProblemError(403, "The preparer of a tahap list may not approve it.", code="maker_checker")
    await apply_approved_list(
        session,
        programme_code=row["programme_code"],
        tahap_id=tahap_id,
        key=await repo.list_key(session, tahap_id),
        generation=int(row["generation"]),
        now=now,
    )
    return tahap_out(row)


async def cancel(session: AsyncSession, *, tahap_id: str, reason: str, principal: Principal) -> TahapOut:
    """Cancel a draft or generated tahap; its unsent lines are removed."""
    row = await transition(session, tahap_id, "cancel", {"cancelled_by": principal.subject, "cancel_reason": reason})
    await repo.delete_unsent_lines(session, tahap_id)
    return tahap_out(row)


async def close(session: AsyncSession, *, tahap_id: str, principal: Principal) -> TahapOut:
    """Close a tahap that is paying (or approved with nothing left to pay)."""
    return tahap_out(await transition(session, tahap_id, "close", {"closed_by": principal.subject}))


async def changes(
    session: AsyncSession, *, tahap_id: str, previous_tahap_id: str | None, principal: Principal
) -> TahapChanges:
    """Tahap-over-tahap report per kecamatan, scoped."""
    row = await require_tahap(session, tahap_id)
    if row["generation"] == 0:
        raise ProblemError(
            409, "No list has been generated for this tahap yet.", code="invalid_state", current_status=row["status"]
        )
    prev: RowMapping | None
    if previous_tahap_id:
        prev = await require_tahap(session, previous_tahap_id)
        if prev["programme_code"] != row["programme_code"] or prev["generation"] == 0:
            raise ProblemError(
                422, "The previous tahap must be of the same programme and have a list.", code="invalid_previous"
            )
    else:
        prev = await repo.previous_committed(session, row)
    per = await tahap_changes(session, current=row, previous=prev, principal=principal)
    return TahapChanges(
        tahap_id=tahap_id,
        previous_tahap_id=prev["id"] if prev is not None else None,
        previous=sum(k.previous for k in per),
        added=sum(k.added for k in per),
        removed=sum(k.removed for k in per),
        current=sum(k.current for k in per),
        kecamatan=per,
    )


async def list_rows(
    session: AsyncSession,
    *,
    tahap_id: str,
    principal: Principal,
    listed: bool | None,
    kecamatan_code: str | None,
    limit: int,
    offset: int,
) -> list[ListRow]:
    """A page of the frozen list, in the caller's scope."""
    row = await require_tahap(session, tahap_id)
    rows = await repo.list_page(
        session,
        key=await repo.list_key(session, tahap_id),
        generation=int(row["generation"]),
        scope=within_scope(tahap_list.c.kelurahan_code, principal),
        listed=listed,
        kecamatan_code=kecamatan_code,
        limit=limit,
        offset=offset,
    )
    rule = await list_rule(session, row)
    return [withhold(list_row(r, rule), principal.role) for r in rows]


async def list_rule(session: AsyncSession, row: RowMapping | dict[str, Any]) -> RuleDefinition:
    """The rule version a tahap's list was generated with."""
    rule_row = await get_rule_by_id(session, row["rule_version_id"])
    assert rule_row is not None
    return RuleDefinition.model_validate_json(rule_row["definition"])


def list_row(r: RowMapping, rule: RuleDefinition) -> ListRow:
    """One family of a frozen list as the JSON list shows it (holds as the rule says for the frozen flags)."""
    holding = holding_hits(rule, open_flags=flags_of(r["open_flags"]), confirmed_flags=flags_of(r["confirmed_flags"]))
    hold = flag_hold_reason(holding) if r["listed"] else None
    return ListRow(
        household_id=r["household_id"],
        kecamatan_code=r["kecamatan_code"],
        kelurahan_code=r["kelurahan_code"],
        desil=r["desil"],
        amount=r["amount"],
        rank=r["list_rank"],
        listed=bool(r["listed"]),
        reason=r["reason"],
        hold_reason=hold.value if hold else None,
        holding_flags=holding,
        inputs=FrozenInputs.model_validate(frozen_inputs(r)),
    )


async def list_export_query(
    session: AsyncSession, *, tahap_id: str, principal: Principal, listed: bool | None, kecamatan_code: str | None
) -> tuple[Select[Any], RuleDefinition]:
    """The whole frozen list in the caller's scope, as a query to stream (exports), and its rule version."""
    row = await require_tahap(session, tahap_id)
    query = repo.list_query(
        key=await repo.list_key(session, tahap_id),
        generation=int(row["generation"]),
        scope=within_scope(tahap_list.c.kelurahan_code, principal),
        listed=listed,
        kecamatan_code=kecamatan_code,
    )
    return query, await list_rule(session, row)


async def list_tahap(session: AsyncSession, *, programme_code: str | None, principal: Principal) -> list[TahapOut]:
    """Tahap, newest first (optionally of one programme), as the caller may see them."""
    return [await scoped_tahap_out(session, r, principal) for r in await repo.list_tahap(session, programme_code)]
