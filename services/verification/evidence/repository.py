"""Queries of stored evidence files."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification.evidence.models import evidence_file
from shared.db.dialect import insert_for


async def add(session: AsyncSession, *, values: dict[str, Any]) -> None:
    """Record a stored file; the same bytes uploaded again keep their first record."""
    await session.execute(
        insert_for(session, evidence_file).values(values).on_conflict_do_nothing(index_elements=["sha256"])
    )


async def get(session: AsyncSession, sha256: str) -> dict[str, Any] | None:
    """One file's record."""
    row = (await session.execute(select(evidence_file).where(evidence_file.c.sha256 == sha256))).first()
    return dict(row._mapping) if row else None


async def known(session: AsyncSession, hashes: Iterable[str]) -> set[str]:
    """Which of these hashes are stored files."""
    wanted = sorted(set(hashes))
    if not wanted:
        return set()
    rows = await session.execute(select(evidence_file.c.sha256).where(evidence_file.c.sha256.in_(wanted)))
    return {r[0] for r in rows}


def record(
    *,
    sha256: str,
    size_bytes: int,
    media_type: str,
    purpose: str,
    kelurahan_code: str,
    gps: tuple[float, float] | None,
    uploaded_by: str,
    uploaded_at: datetime,
) -> dict[str, Any]:
    """The row of a stored file."""
    return {
        "sha256": sha256,
        "size_bytes": size_bytes,
        "media_type": media_type,
        "purpose": purpose,
        "kelurahan_code": kelurahan_code,
        "gps_lat": gps[0] if gps else None,
        "gps_lon": gps[1] if gps else None,
        "uploaded_by": uploaded_by,
        "uploaded_at": uploaded_at,
    }
