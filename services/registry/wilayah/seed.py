"""Rows of the wilayah table from the packaged reference (used by the seeding migration and by resync)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.wilayah.reference import WilayahReference, default_wilayah


def wilayah_rows(reference: WilayahReference | None = None) -> list[dict[str, Any]]:
    """One dict per area, in code order, ready for a bulk insert."""
    ref = reference or default_wilayah()
    return [
        {
            "code": area.code,
            "name": area.name,
            "tingkat": area.tingkat,
            "parent_code": area.parent,
            "kode_bps": area.kode_bps,
            "aliases": "|".join(area.aliases),
        }
        for area in ref
    ]


async def sync_wilayah(session: AsyncSession, reference: WilayahReference | None = None) -> int:
    """Upsert the reference into the wilayah table (a newer Kepmendagri file); returns the rows written."""
    from services.registry.wilayah.models import wilayah

    rows = wilayah_rows(reference)
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(wilayah).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["code"],
        set_={c: stmt.excluded[c] for c in ("name", "tingkat", "parent_code", "kode_bps", "aliases")},
    )
    await session.execute(stmt)
    return len(rows)
