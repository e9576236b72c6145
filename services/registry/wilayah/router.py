"""Wilayah reference API, served from the packaged Kepmendagri reference."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from services.registry.domain.identifiers import Tingkat
from services.registry.domain.wilayah import Wilayah, default_wilayah
from shared.http.params import PRINTABLE
from shared.http.problems import ProblemError
from shared.http.security import CurrentPrincipal

router = APIRouter(prefix="/wilayah", tags=["wilayah"])


class WilayahOut(BaseModel):
    """One administrative area."""

    code: str
    name: str
    tingkat: str
    parent: str | None
    kode_bps: str | None
    aliases: list[str]


def _out(area: Wilayah) -> WilayahOut:
    return WilayahOut(
        code=area.code,
        name=area.name,
        tingkat=area.tingkat,
        parent=area.parent,
        kode_bps=area.kode_bps,
        aliases=list(area.aliases),
    )


@router.get("/kecamatan", response_model=list[WilayahOut], summary="All kecamatan")
async def kecamatan(_: CurrentPrincipal) -> list[WilayahOut]:
    return [_out(a) for a in default_wilayah().kecamatan_list()]


@router.get("/kecamatan/{code}/kelurahan", response_model=list[WilayahOut], summary="Kelurahan of a kecamatan")
async def kelurahan(code: str, _: CurrentPrincipal) -> list[WilayahOut]:
    ref = default_wilayah()
    area = ref.find(code)
    if area is None or area.tingkat != "kecamatan":
        raise ProblemError(404, "No such kecamatan.", code="wilayah_not_found")
    return [_out(a) for a in ref.kelurahan_list(code)]


@router.get("/search", response_model=list[WilayahOut], summary="Search by name or alias")
async def search(
    _: CurrentPrincipal,
    q: Annotated[str, Query(min_length=2, max_length=100)],
    tingkat: Tingkat | None = None,
    within: Annotated[str | None, Query(pattern=PRINTABLE, max_length=20)] = None,
    partial: bool = True,
) -> list[WilayahOut]:
    return [_out(a) for a in default_wilayah().search(q, tingkat=tingkat, within=within, partial=partial)]


@router.get("/{code}", response_model=WilayahOut, summary="An area by Kemendagri code")
async def by_code(code: str, _: CurrentPrincipal) -> WilayahOut:
    area = default_wilayah().find(code)
    if area is None:
        raise ProblemError(404, "No such wilayah code.", code="wilayah_not_found")
    return _out(area)
