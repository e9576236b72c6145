"""HTTP API of families (keluarga) and members (individu)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse

from services.registry.families import recipient, service
from services.registry.families.changes import actor_of
from services.registry.families.idempotency import remember, request_hash, stored_response
from services.registry.families.privacy import Viewer, viewer_for
from services.registry.families.schemas import (
    CountOut,
    Deactivate,
    DeceasedCorrection,
    FamilyCreate,
    FamilyOut,
    FamilyPage,
    FamilyPatch,
    HistoryEntry,
    LookupKk,
    LookupNik,
    MarkDeceased,
    MemberCreate,
    MemberOut,
    MemberPatch,
    MoveMember,
    RecipientChange,
)
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.events.household import DataStatus
from shared.http.params import PRINTABLE
from shared.http.problems import ProblemError
from shared.http.security import require
from shared.runtime.dependencies import SessionDep

router = APIRouter(tags=["families"])

Reader = Annotated[Principal, Depends(require(Permission.READ_HOUSEHOLD))]
Writer = Annotated[Principal, Depends(require(Permission.WRITE_HOUSEHOLD))]
Corrector = Annotated[Principal, Depends(require(Permission.CORRECT_RECORD))]
IfMatch = Annotated[str | None, Header(alias="If-Match", description='The ETag from GET, e.g. "3".')]
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
Reveal = Annotated[bool, Query(description="Show full NIK/No. KK (needs the permission and a purpose).")]
Purpose = Annotated[
    str | None, Query(pattern=PRINTABLE, min_length=3, max_length=300, description="Why identifiers are revealed.")
]


def parse_if_match(value: str | None) -> int | None:
    """The version in an If-Match header ("3", W/"3" or 3); 412 if it is not a version of ours."""
    if value is None:
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise ProblemError(412, "If-Match must be an ETag returned by this API.", code="version_conflict")
    return int(raw)


def _with_etag(body: FamilyOut, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status, headers={"ETag": f'"{body.version}"', **(headers or {})}
    )


async def _family_response(session: SessionDep, principal: Principal, family_id: str) -> JSONResponse:
    """The family as the writer sees it after a change, with its new ETag."""
    out = await service.family_detail(session, Viewer(principal), family_id)
    return _with_etag(out)


@router.post("/families", status_code=201, response_model=FamilyOut, summary="Register a family with its members")
async def create_family(
    data: FamilyCreate, session: SessionDep, principal: Writer, idempotency: IdemKey = None
) -> JSONResponse:
    endpoint = "POST /families"
    fingerprint = request_hash(endpoint, data.model_dump(mode="json"))
    if idempotency:
        stored = await stored_response(
            session, subject=principal.subject, key=idempotency, endpoint=endpoint, fingerprint=fingerprint
        )
        if stored is not None:
            status, body = stored
            return JSONResponse(
                body, status_code=status, headers={"ETag": f'"{body["version"]}"', "Idempotent-Replayed": "true"}
            )
    family_id = await service.create_family(session, data=data, principal=principal, actor=actor_of(principal))
    out = await service.family_detail(session, Viewer(principal), family_id)
    if idempotency:
        await remember(
            session,
            subject=principal.subject,
            key=idempotency,
            endpoint=endpoint,
            fingerprint=fingerprint,
            status_code=201,
            response=out.model_dump(mode="json"),
        )
    return _with_etag(out, 201, {"Location": f"/families/{family_id}"})


@router.get("/families", response_model=FamilyPage, summary="Search families in your wilayah")
async def list_families(
    session: SessionDep,
    principal: Reader,
    kecamatan: Annotated[str | None, Query(pattern=PRINTABLE, max_length=20)] = None,
    kelurahan: Annotated[str | None, Query(pattern=PRINTABLE, max_length=20)] = None,
    desil_min: Annotated[int | None, Query(ge=1, le=10)] = None,
    desil_max: Annotated[int | None, Query(ge=1, le=10)] = None,
    data_status: DataStatus | None = None,
    flag: Annotated[
        str | None,
        Query(max_length=100, pattern=PRINTABLE, description="An open flag kind, or 'any'."),
    ] = None,
    name: Annotated[str | None, Query(pattern=PRINTABLE, min_length=2, max_length=100)] = None,
    cursor: Annotated[str | None, Query(pattern=PRINTABLE, max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    reveal: Reveal = False,
    purpose: Purpose = None,
) -> FamilyPage:
    viewer = viewer_for(principal, reveal, purpose)
    filters = service.family_filter(
        kecamatan=kecamatan,
        kelurahan=kelurahan,
        desil_min=desil_min,
        desil_max=desil_max,
        data_status=data_status,
        flag=flag,
        name=name,
    )
    return await service.list_families(session, viewer=viewer, filters=filters, cursor=cursor, limit=limit)


@router.get("/families/count", response_model=CountOut, summary="Count families in your wilayah")
async def count(
    session: SessionDep,
    principal: Reader,
    kecamatan: Annotated[str | None, Query(pattern=PRINTABLE, max_length=20)] = None,
    kelurahan: Annotated[str | None, Query(pattern=PRINTABLE, max_length=20)] = None,
    desil_min: Annotated[int | None, Query(ge=1, le=10)] = None,
    desil_max: Annotated[int | None, Query(ge=1, le=10)] = None,
    data_status: DataStatus | None = None,
    flag: Annotated[str | None, Query(max_length=100, pattern=PRINTABLE)] = None,
    name: Annotated[str | None, Query(pattern=PRINTABLE, min_length=2, max_length=100)] = None,
) -> CountOut:
    filters = service.family_filter(
        kecamatan=kecamatan,
        kelurahan=kelurahan,
        desil_min=desil_min,
        desil_max=desil_max,
        data_status=data_status,
        flag=flag,
        name=name,
    )
    return CountOut(count=await service.count_families(session, principal=principal, filters=filters))


@router.get("/families/{family_id}", response_model=FamilyOut, summary="A family with its members")
async def get_family(
    family_id: str, session: SessionDep, principal: Reader, reveal: Reveal = False, purpose: Purpose = None
) -> JSONResponse:
    viewer = viewer_for(principal, reveal, purpose)
    return _with_etag(await service.read_family(session, viewer=viewer, family_id=family_id))


@router.patch("/families/{family_id}", response_model=FamilyOut, summary="Change a family (If-Match required)")
async def patch_family(
    family_id: str, patch: FamilyPatch, session: SessionDep, principal: Writer, if_match: IfMatch = None
) -> JSONResponse:
    await service.update_family(
        session,
        family_id=family_id,
        patch=patch,
        expected_version=parse_if_match(if_match),
        principal=principal,
        actor=actor_of(principal),
    )
    return await _family_response(session, principal, family_id)


@router.post(
    "/families/{family_id}/members", status_code=201, response_model=FamilyOut, summary="Add a member (If-Match)"
)
async def add_member(
    family_id: str,
    data: MemberCreate,
    session: SessionDep,
    principal: Writer,
    if_match: IfMatch = None,
    idempotency: IdemKey = None,
) -> JSONResponse:
    endpoint = f"POST /families/{family_id}/members"
    fingerprint = request_hash(endpoint, data.model_dump(mode="json"))
    if idempotency:
        stored = await stored_response(
            session, subject=principal.subject, key=idempotency, endpoint=endpoint, fingerprint=fingerprint
        )
        if stored is not None:
            status, body = stored
            return JSONResponse(body, status_code=status, headers={"Idempotent-Replayed": "true"})
    await service.add_member(
        session,
        family_id=family_id,
        data=data,
        expected_version=parse_if_match(if_match),
        principal=principal,
        actor=actor_of(principal),
    )
    out = await service.family_detail(session, Viewer(principal), family_id)
    if idempotency:
        await remember(
            session,
            subject=principal.subject,
            key=idempotency,
            endpoint=endpoint,
            fingerprint=fingerprint,
            status_code=201,
            response=out.model_dump(mode="json"),
        )
    return _with_etag(out, 201)


@router.get("/families/{family_id}/members", response_model=list[MemberOut], summary="Members of a family")
async def list_members(
    family_id: str, session: SessionDep, principal: Reader, reveal: Reveal = False, purpose: Purpose = None
) -> list[MemberOut]:
    viewer = viewer_for(principal, reveal, purpose)
    return await service.read_members(session, viewer=viewer, family_id=family_id)


@router.get("/members/{member_id}", response_model=MemberOut, summary="One member")
async def get_member(
    member_id: str, session: SessionDep, principal: Reader, reveal: Reveal = False, purpose: Purpose = None
) -> JSONResponse:
    viewer = viewer_for(principal, reveal, purpose)
    found, version = await service.read_member(session, viewer=viewer, member_id=member_id)
    return JSONResponse(found.model_dump(mode="json"), headers={"ETag": f'"{version}"'})


@router.patch("/members/{member_id}", response_model=FamilyOut, summary="Change a member (If-Match of the family)")
async def patch_member(
    member_id: str, patch: MemberPatch, session: SessionDep, principal: Writer, if_match: IfMatch = None
) -> JSONResponse:
    family_id = await service.update_member(
        session,
        member_id=member_id,
        patch=patch,
        expected_version=parse_if_match(if_match),
        principal=principal,
        actor=actor_of(principal),
    )
    return await _family_response(session, principal, family_id)


@router.post("/members/{member_id}/move", response_model=FamilyOut, summary="Move a member to another family")
async def move_member(
    member_id: str, data: MoveMember, session: SessionDep, principal: Writer, if_match: IfMatch = None
) -> JSONResponse:
    _, target = await service.move_member(
        session,
        member_id=member_id,
        data=data,
        expected_version=parse_if_match(if_match),
        principal=principal,
        actor=actor_of(principal),
    )
    return await _family_response(session, principal, target)


@router.post("/members/{member_id}/deceased", response_model=FamilyOut, summary="Record a death")
async def mark_deceased(
    member_id: str, data: MarkDeceased, session: SessionDep, principal: Writer, if_match: IfMatch = None
) -> JSONResponse:
    family_id = await service.mark_deceased(
        session,
        member_id=member_id,
        data=data,
        expected_version=parse_if_match(if_match),
        principal=principal,
        actor=actor_of(principal),
    )
    return await _family_response(session, principal, family_id)


@router.post(
    "/members/{member_id}/deceased/correction", response_model=FamilyOut, summary="Undo a wrongly recorded death"
)
async def correct_deceased(
    member_id: str, data: DeceasedCorrection, session: SessionDep, principal: Corrector, if_match: IfMatch = None
) -> JSONResponse:
    family_id = await service.correct_deceased(
        session,
        member_id=member_id,
        data=data,
        expected_version=parse_if_match(if_match),
        principal=principal,
        actor=actor_of(principal),
    )
    return await _family_response(session, principal, family_id)


@router.post(
    "/families/{family_id}/recipient",
    response_model=FamilyOut,
    summary="Name another adult member as the family's recipient (If-Match required)",
)
async def change_recipient(
    family_id: str, data: RecipientChange, session: SessionDep, principal: Corrector, if_match: IfMatch = None
) -> JSONResponse:
    await recipient.set_recipient(
        session,
        family_id=family_id,
        member_id=data.member_id,
        reason=data.reason,
        expected_version=parse_if_match(if_match),
        principal=principal,
        actor=actor_of(principal),
    )
    return await _family_response(session, principal, family_id)


@router.post("/families/{family_id}/deactivate", response_model=FamilyOut, summary="Make a family inactive")
async def deactivate(
    family_id: str, data: Deactivate, session: SessionDep, principal: Writer, if_match: IfMatch = None
) -> JSONResponse:
    await service.deactivate_family(
        session,
        family_id=family_id,
        data=data,
        expected_version=parse_if_match(if_match),
        principal=principal,
        actor=actor_of(principal),
    )
    return await _family_response(session, principal, family_id)


@router.get("/families/{family_id}/history", response_model=list[HistoryEntry], summary="Every recorded change")
async def history(
    family_id: str,
    session: SessionDep,
    principal: Reader,
    reveal: Reveal = False,
    purpose: Purpose = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[HistoryEntry]:
    viewer = viewer_for(principal, reveal, purpose)
    return await service.family_changes(session, viewer=viewer, family_id=family_id, limit=limit)


@router.post("/lookup/nik", response_model=FamilyOut, summary="The family of an active NIK (NIK in the body)")
async def lookup_nik(data: LookupNik, session: SessionDep, principal: Reader) -> JSONResponse:
    viewer = viewer_for(principal, data.reveal, data.purpose)
    return _with_etag(await service.lookup(session, viewer=viewer, by="nik", key=data.nik))


@router.post("/lookup/kk", response_model=FamilyOut, summary="A family by No. KK (No. KK in the body)")
async def lookup_kk(data: LookupKk, session: SessionDep, principal: Reader) -> JSONResponse:
    viewer = viewer_for(principal, data.reveal, data.purpose)
    return _with_etag(await service.lookup(session, viewer=viewer, by="no_kk", key=data.no_kk))
