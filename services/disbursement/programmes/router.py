"""HTTP routes of programmes, rule versions, dry runs and explanations."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from services.disbursement.programmes import service
from services.disbursement.programmes.schemas import (
    DryRunOut,
    ExplainOut,
    ProgrammeIn,
    ProgrammeOut,
    RuleIn,
    RuleOut,
)
from services.disbursement.scope import require_kota
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.events.envelope import utcnow
from shared.http.params import PathText
from shared.http.security import require
from shared.runtime.dependencies import SessionDep

router = APIRouter(prefix="/programmes", tags=["programmes"])
Reader = Annotated[Principal, Depends(require(Permission.READ_PAYMENTS))]
Manager = Annotated[Principal, Depends(require(Permission.MANAGE_PROGRAMMES))]
# rule_version.version is an INTEGER column: a larger number names no version (422, not a database error).
MAX_VERSION = 2**31 - 1
Version = Annotated[int, Path(ge=1, le=MAX_VERSION)]
ProgrammeCode = Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9_]{1,29}$", description="e.g. SEMBAKO")]


def _today() -> date:
    return utcnow().date()


@router.get("", summary="Programmes (national mirrored and city-funded)")
async def list_programmes(session: SessionDep, _: Reader) -> list[ProgrammeOut]:
    return await service.list_programmes(session)


@router.post("", status_code=201, summary="Define a city-funded (APBD) programme")
async def create_programme(body: ProgrammeIn, session: SessionDep, principal: Manager) -> ProgrammeOut:
    require_kota(principal, "define programmes")
    return await service.create_programme(session, body=body, principal=principal)


@router.get("/{code}", summary="One programme")
async def get_programme(code: ProgrammeCode, session: SessionDep, _: Reader) -> ProgrammeOut:
    return service.programme_out(await service.require_programme(session, code))


@router.get("/{code}/rules", summary="Rule versions of a programme")
async def list_rules(code: ProgrammeCode, session: SessionDep, _: Reader) -> list[RuleOut]:
    return await service.list_rules(session, code=code)


@router.post("/{code}/rules", status_code=201, summary="Add a rule version (effective-dated, never edited)")
async def add_rule(code: ProgrammeCode, body: RuleIn, session: SessionDep, principal: Manager) -> RuleOut:
    require_kota(principal, "change eligibility rules")
    return await service.add_rule(session, code=code, body=body, principal=principal)


@router.get("/{code}/rules/{version}", summary="One rule version")
async def get_rule(code: ProgrammeCode, version: Version, session: SessionDep, _: Reader) -> RuleOut:
    return service.rule_out(await service.resolve_rule(session, code=code, version=version, as_of=_today()))


@router.post("/{code}/rules/{version}/dry-run", summary="Evaluate a rule version against today's read model")
async def dry_run(
    code: ProgrammeCode,
    version: Version,
    session: SessionDep,
    principal: Reader,
    as_of: Annotated[date | None, Query(description="Judgement day (default today)")] = None,
) -> DryRunOut:
    return await service.dry_run(session, code=code, version=version, as_of=as_of or _today(), principal=principal)


@router.get("/{code}/explain/{household_id}", summary="Why one family is in or out")
async def explain(
    code: ProgrammeCode,
    household_id: PathText,
    session: SessionDep,
    principal: Reader,
    version: Annotated[
        int | None, Query(ge=1, le=MAX_VERSION, description="Rule version (default: in force on as_of)")
    ] = None,
    as_of: Annotated[date | None, Query()] = None,
) -> ExplainOut:
    return await service.explain(
        session, code=code, household_id=household_id, version=version, as_of=as_of or _today(), principal=principal
    )
