"""Programme and rule use cases: define, version, dry-run and explain."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.database import OUTBOX
from services.disbursement.households.repository import get_household, inputs_from_row
from services.disbursement.programmes import repository as repo
from services.disbursement.programmes.eligibility import frozen_inputs
from services.disbursement.programmes.rules import Reason, RuleDefinition, evaluate, holding_hits
from services.disbursement.programmes.schemas import (
    CheckOut,
    DryRunOut,
    ExplainOut,
    FrozenInputs,
    KecamatanDryRun,
    ProgrammeIn,
    ProgrammeOut,
    RuleIn,
    RuleOut,
)
from services.disbursement.scope import within_scope
from shared.auth.principal import Principal
from shared.events.envelope import utcnow
from shared.events.programme import ProgrammeEventType, ProgrammeRulePublished
from shared.events.topics import DISBURSEMENT_PAYMENT
from shared.http.problems import ProblemError
from shared.privacy.policy import withhold


def programme_out(row: RowMapping) -> ProgrammeOut:
    """Response body of a programme row."""
    return ProgrammeOut.model_validate(dict(row))


def rule_out(row: RowMapping) -> RuleOut:
    """Response body of a rule_version row."""
    values = dict(row)
    values["definition"] = RuleDefinition.model_validate_json(row["definition"])
    return RuleOut.model_validate(values)


async def require_programme(session: AsyncSession, code: str) -> RowMapping:
    """The programme, or 404."""
    row = await repo.get_programme(session, code)
    if row is None:
        raise ProblemError(404, f"Programme {code} does not exist.", code="not_found")
    return row


async def create_programme(session: AsyncSession, *, body: ProgrammeIn, principal: Principal) -> ProgrammeOut:
    """Define a city-funded programme (409 if the code exists)."""
    if await repo.get_programme(session, body.code) is not None:
        raise ProblemError(409, f"Programme {body.code} already exists.", code="exists")
    values = {**body.model_dump(), "funding": "city", "created_by": principal.subject, "created_at": utcnow()}
    await repo.insert_programme(session, values)
    return programme_out(await require_programme(session, body.code))


async def add_rule(session: AsyncSession, *, code: str, body: RuleIn, principal: Principal) -> RuleOut:
    """Store a new rule version (versions are never edited)."""
    await require_programme(session, code)
    version = await repo.next_rule_version(session, code)
    await repo.insert_rule(
        session,
        {
            "programme_code": code,
            "version": version,
            "effective_from": body.effective_from,
            "effective_to": body.effective_to,
            "definition": body.definition.model_dump_json(),
            "note": body.note,
            "created_by": principal.subject,
            "created_at": utcnow(),
        },
    )
    row = await repo.get_rule(session, code, version)
    assert row is not None
    # Verification derives the desil thresholds of its ground checks from the bands published here.
    await OUTBOX.add(
        session,
        topic=DISBURSEMENT_PAYMENT,
        event_type=ProgrammeEventType.RULE_PUBLISHED.value,
        subject=code,
        aggregate_version=version,
        data=ProgrammeRulePublished(
            programme_code=code,
            version=version,
            desil_min=body.definition.desil_min,
            desil_max=body.definition.desil_max,
            effective_from=body.effective_from,
            effective_to=body.effective_to,
        ),
    )
    return rule_out(row)


async def resolve_rule(session: AsyncSession, *, code: str, version: int | None, as_of: date) -> RowMapping:
    """The requested rule version, or the one in force on `as_of`; 404 if none."""
    await require_programme(session, code)
    row = (
        await repo.get_rule(session, code, version)
        if version is not None
        else await repo.effective_rule(session, code, as_of)
    )
    if row is None:
        raise ProblemError(404, f"No rule version of {code} for that version or date.", code="no_rule")
    return row


async def dry_run(session: AsyncSession, *, code: str, version: int, as_of: date, principal: Principal) -> DryRunOut:
    """Counts per kecamatan of a rule version against today's read model (in the caller's scope)."""
    row = await resolve_rule(session, code=code, version=version, as_of=as_of)
    rule = RuleDefinition.model_validate_json(row["definition"])
    counts = await repo.dry_run_counts(session, rule, as_of, lambda col: within_scope(col, principal))
    per: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"eligible": 0, "eligible_amount": 0, "over_quota": 0, "excluded": {}}
    )
    for kec, reason, n, amount in counts:
        slot = per[kec]
        if reason == Reason.ELIGIBLE:
            slot["eligible"] += n
            slot["eligible_amount"] += amount
        elif reason == Reason.OVER_QUOTA:
            slot["over_quota"] += n
        else:
            slot["excluded"][reason] = slot["excluded"].get(reason, 0) + n
    kecamatan = [KecamatanDryRun(kecamatan_code=k, **v) for k, v in sorted(per.items())]
    excluded: dict[str, int] = defaultdict(int)
    for k in kecamatan:
        for reason, n in k.excluded.items():
            excluded[reason] += n
    return DryRunOut(
        programme_code=code,
        rule_version=row["version"],
        as_of=as_of,
        eligible=sum(k.eligible for k in kecamatan),
        eligible_amount=sum(k.eligible_amount for k in kecamatan),
        over_quota=sum(k.over_quota for k in kecamatan),
        excluded=dict(sorted(excluded.items())),
        kecamatan=kecamatan,
    )


async def explain(
    session: AsyncSession, *, code: str, household_id: str, version: int | None, as_of: date, principal: Principal
) -> ExplainOut:
    """One family against a rule version: in or out, why, with the inputs used."""
    rule_row = await resolve_rule(session, code=code, version=version, as_of=as_of)
    rule = RuleDefinition.model_validate_json(rule_row["definition"])
    family = await get_household(session, household_id)
    if family is None or family["kelurahan_code"] is None or not principal.covers(family["kelurahan_code"]):
        raise ProblemError(404, "No such family in your wilayah.", code="not_found")
    inputs = inputs_from_row(family)
    verdict = evaluate(rule, inputs, as_of=as_of)
    ranked = await repo.ranked_one(session, rule, as_of, household_id)
    assert ranked is not None
    out = ExplainOut(
        household_id=household_id,
        programme_code=code,
        rule_version=rule_row["version"],
        as_of=as_of,
        listed=bool(ranked["listed"]),
        reason=ranked["reason"],
        rank=ranked["list_rank"],
        quota=rule.quota,
        amount=int(ranked["amount"]),
        hold_reason=verdict.hold.value if verdict.hold and ranked["listed"] else None,
        holding_flags=holding_hits(rule, open_flags=inputs.open_flags, confirmed_flags=inputs.confirmed_flags),
        checks=[CheckOut(check=c.check, passed=c.passed, detail=c.detail) for c in verdict.checks],
        inputs=FrozenInputs.model_validate(frozen_inputs(ranked)),
    )
    return withhold(out, principal.role)


async def list_programmes(session: AsyncSession) -> list[ProgrammeOut]:
    """Every programme (national mirrored and city-funded)."""
    return [programme_out(r) for r in await repo.list_programmes(session)]


async def list_rules(session: AsyncSession, *, code: str) -> list[RuleOut]:
    """The rule versions of a programme; 404 for an unknown programme."""
    await require_programme(session, code)
    return [rule_out(r) for r in await repo.list_rules(session, code)]
