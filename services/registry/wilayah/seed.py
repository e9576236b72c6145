"""Rows of the wilayah table from the packaged reference (used by the seeding migration)."""

from __future__ import annotations

from typing import Any

from services.registry.domain.wilayah import WilayahReference, default_wilayah


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
