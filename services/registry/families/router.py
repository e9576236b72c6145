"""HTTP API of families (keluarga) and members (individu)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.domain.identifiers import today_wib
from services.registry.families import recipient, service
from services.registry.families.changes import Actor
from services.registry.families.idempotency import remember, request_hash, stored_response
from services.registry.families.models import family_history
from services.registry.families.privacy import (
    Viewer,
    present_family,
    record_access,
    redact,
    viewer_for,
)
from services.registry.families.repository import (
    FamilyDetail,
    FamilyFilter,
    count_families,
    encode_cursor,
    family_detail_row,
    get_family_row,
    get_member_row,
    list_query,
    read_only,
)
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
from services.registry.flags.repository import flag_kinds_by_family
from services.registry.flags.rules import FlagKind
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


def actor_of(principal: Principal) -> Actor:
    """The history/audit actor of a caller."""
    return Actor(principal.subject, str(principal.role))


def parse_if_match(value: str | None) -> int | None:
    """The version in an If-Match header ("3", W/"3" or 3); 412 if it is not a version of ours."""
    if value is None:
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise ProblemError(412, "If-Match must be an ETag returned by this API.", code="version_conflict")
    return int(raw)


def _present(detail: FamilyDetail, viewer: Viewer) -> FamilyOut:
    return present_family(
        detail.family, viewer, open_flags=detail.open_flags, members=detail.members, today=today_wib()
    )


async def family_detail(session: AsyncSession, viewer: Viewer, family_id: str) -> FamilyOut:
    """A family with members for this viewer (404 outside scope)."""
    detail = await family_detail_row(session, viewer.principal, "id", family_id)
    if detail is None:
        raise ProblemError(404, "No such family in your wilayah.", code="family_not_found")
    return _present(detail, viewer)


def _with_etag(body: FamilyOut, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status, headers={"ETag": f'"{body.version}"', **(headers or {})}
    )


async def _family_response(session: AsyncSession, principal: Principal, family_id: str) -> JSONResponse:
    """The family as the writer sees it after a change, with its new ETag."""
    out = await family_detail(session, Viewer(principal), family_id)
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
    out = await family_detail(session, Viewer(principal), family_id)
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
    filters = family_filter(kecamatan, kelurahan, desil_min, desil_max, data_status, flag, name)
    rows = [dict(r) for r in (await session.execute(list_query(principal, filters, cursor, limit))).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    kinds = await flag_kinds_by_family(session, [r["id"] for r in rows])
    today = today_wib()
    items = [present_family(r, viewer, open_flags=kinds[r["id"]][0], members=None, today=today) for r in rows]
    await record_access(session, viewer, [(r["id"], None) for r in rows], "no_kk,head_nik")
    nxt = encode_cursor(rows[-1]["kelurahan_code"], rows[-1]["id"]) if more and rows else None
    return FamilyPage(items=items, next_cursor=nxt)


def family_filter(
    kecamatan: str | None,
    kelurahan: str | None,
    desil_min: int | None,
    desil_max: int | None,
    data_status: DataStatus | None,
    flag: str | None,
    name: str | None,
) -> FamilyFilter:
    """The list's query parameters as a filter; 422 for an unknown flag kind."""
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
    filters = family_filter(kecamatan, kelurahan, desil_min, desil_max, data_status, flag, name)
    return CountOut(count=await count_families(session, principal, filters))


@router.get("/families/{family_id}", response_model=FamilyOut, summary="A family with its members")
async def get_family(
    family_id: str, session: SessionDep, principal: Reader, reveal: Reveal = False, purpose: Purpose = None
) -> JSONResponse:
    viewer = viewer_for(principal, reveal, purpose)
    out = await family_detail(session, viewer, family_id)
    await record_access(
        session, viewer, [(family_id, None)] + [(family_id, m.id) for m in out.members or []], "no_kk,nik,birth_date"
    )
    return _with_etag(out)


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
    out = await family_detail(session, Viewer(principal), family_id)
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
    out = await family_detail(session, viewer, family_id)
    await record_access(session, viewer, [(family_id, m.id) for m in out.members or []], "nik,birth_date")
    return out.members or []


@router.get("/members/{member_id}", response_model=MemberOut, summary="One member")
async def get_member(
    member_id: str, session: SessionDep, principal: Reader, reveal: Reveal = False, purpose: Purpose = None
) -> JSONResponse:
    viewer = viewer_for(principal, reveal, purpose)
    current = await get_member_row(session, principal, member_id)
    out = await family_detail(session, viewer, current["family_id"])
    await record_access(session, viewer, [(current["family_id"], member_id)], "nik,birth_date")
    found = next(m for m in out.members or [] if m.id == member_id)
    return JSONResponse(found.model_dump(mode="json"), headers={"ETag": f'"{out.version}"'})


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
    await get_family_row(session, principal, family_id)
    rows = await session.execute(
        select(family_history).where(family_history.c.family_id == family_id).order_by(family_history.c.id).limit(limit)
    )
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


@router.post("/lookup/nik", response_model=FamilyOut, summary="The family of an active NIK (NIK in the body)")
async def lookup_nik(data: LookupNik, session: SessionDep, principal: Reader) -> JSONResponse:
    viewer = viewer_for(principal, data.reveal, data.purpose)
    if not viewer.reveal:
        await read_only(session)
    # Scoped in the same query: a NIK outside the caller's wilayah answers exactly like an unknown one.
    detail = await family_detail_row(session, principal, "nik", data.nik)
    if detail is None:
        raise ProblemError(404, "No active member with this NIK in your wilayah.", code="not_found")
    out = _present(detail, viewer)
    response = _with_etag(out)
    # Last, so the audit chain's lock (held until the commit) waits on nothing else of this request.
    await record_access(session, viewer, [(out.id, m.id) for m in out.members or []], "nik,no_kk,birth_date")
    return response


@router.post("/lookup/kk", response_model=FamilyOut, summary="A family by No. KK (No. KK in the body)")
async def lookup_kk(data: LookupKk, session: SessionDep, principal: Reader) -> JSONResponse:
    viewer = viewer_for(principal, data.reveal, data.purpose)
    if not viewer.reveal:
        await read_only(session)
    detail = await family_detail_row(session, principal, "no_kk", data.no_kk)
    if detail is None:
        raise ProblemError(404, "No family with this No. KK in your wilayah.", code="not_found")
    out = _present(detail, viewer)
    response = _with_etag(out)
    await record_access(session, viewer, [(out.id, None)], "nik,no_kk,birth_date")
    return response
