"""Test data and calls for the registry API (valid Padang identifiers, a family body builder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from shared.auth.principal import Role
from tests.support.api import auth

KEL_SELATAN = "13.71.01.1001"  # Belakang Pondok, Padang Selatan
KEL_KURANJI = "13.71.09.1001"  # Pasar Ambacang, Kuranji

# 1371 01 | DDMMYY (+40 for women) | serial
HEAD_NIK = "1371011505800001"  # man, 15-05-1980
WIFE_NIK = "1371015505850002"  # woman, 15-05-1985
CHILD_NIK = "1371011003220003"  # boy, 10-03-2022


def nik(serial: int, *, day: str = "15", month: str = "05", yy: str = "80", region: str = "137101") -> str:
    """A valid-looking NIK with a chosen serial."""
    return f"{region}{day}{month}{yy}{serial:04d}"


def kk(serial: int) -> str:
    """A valid No. KK issued 01-01-2015 in Padang Selatan."""
    return f"137101010115{serial:04d}"


def family_body(
    *, no_kk: str, head: str = HEAD_NIK, kelurahan: str = KEL_SELATAN, members: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A valid family create body; the head is the first member unless members are given."""
    return {
        "no_kk": no_kk,
        "head_nik": head,
        "address": "Jl. Nipah No. 7",
        "rt": "2",
        "rw": "05",
        "kelurahan_code": kelurahan,
        "members": members
        if members is not None
        else [{"nik": head, "name": "Budi Santoso", "relationship": "kepala_keluarga"}],
    }


class Api:
    """Calls as one role/wilayah."""

    def __init__(self, client: httpx.AsyncClient, data_dir: Path, role: Role, wilayah: str = "13.71") -> None:
        self.client = client
        self.headers = auth(data_dir, role, wilayah)

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        """GET as this caller."""
        return await self.client.get(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    async def post(self, url: str, body: Any = None, **kw: Any) -> httpx.Response:
        """POST JSON as this caller."""
        return await self.client.post(url, json=body, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    async def patch(self, url: str, body: Any, **kw: Any) -> httpx.Response:
        """PATCH JSON as this caller."""
        return await self.client.patch(url, json=body, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    async def create(self, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """Create a family; assert 201."""
        r = await self.post("/families", body, **kw)
        assert r.status_code == 201, r.text
        data: dict[str, Any] = r.json()
        return data
