"""Tepat's register as DCI records: Group = family (No. KK), Person = member (NIK), cut to a partner's fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from services.registry.families.rules import age_on

# Every field a partner can be granted; a record carries only the granted ones (plus @type).
FIELDS = (
    "identifier",  # NIK of a Person, No. KK of a Group
    "household_identifier",  # Tepat's household id (a pseudonym, no personal data)
    "name",
    "sex",
    "birth_date",
    "age",
    "relationship",
    "is_deceased",
    "death_date",
    "location",  # address.region_code (kecamatan) and sub_region_code (kelurahan), Kemendagri codes
    "poverty_score",  # desil and its period
    "status",  # data status: active / needs_verification / inactive
    "group_size",
    "members",  # a Group's members as Person records (each cut to the same fields)
    "last_updated",
)
SEX = {"L": "male", "P": "female"}


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _common(row: Mapping[Any, Any], allowed: frozenset[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "household_identifier" in allowed:
        out["household_identifier"] = row["family_id"]
    if "location" in allowed:
        out["address"] = {
            "@type": "Address",
            "region_code": row["kecamatan_code"],
            "sub_region_code": row["kelurahan_code"],
            "country_code": "ID",
        }
    if "poverty_score" in allowed:
        out["poverty_score"] = {"desil": row["desil"], "period": row["desil_period"]}
    if "status" in allowed:
        out["status"] = row["data_status"]
    return out


def person(row: Mapping[Any, Any], allowed: frozenset[str], today: date) -> dict[str, Any]:
    """A member (joined with its family's wilayah, desil and status) as a DCI Person."""
    out: dict[str, Any] = {"@type": "Person"}
    if "identifier" in allowed:
        out["identifier"] = [{"@type": "Identifier", "identifier_type": "NIK", "identifier_value": row["nik"]}]
    if "name" in allowed:
        out["name"] = {"@type": "Name", "given_name": row["name"]}
    if "sex" in allowed:
        out["sex"] = SEX.get(row["sex"] or "")
    if "birth_date" in allowed:
        out["birth_date"] = _iso(row["birth_date"])
    if "age" in allowed:
        out["age"] = age_on(row["birth_date"], today) if row["birth_date"] is not None else None
    if "relationship" in allowed:
        out["relationship"] = row["relationship"]
    if "is_deceased" in allowed:
        out["is_deceased"] = bool(row["deceased"])
    if "death_date" in allowed:
        out["death_date"] = _iso(row["deceased_date"])
    out.update(_common(row, allowed))
    return out


def group(
    row: Mapping[Any, Any], members: Sequence[Mapping[Any, Any]], allowed: frozenset[str], today: date
) -> dict[str, Any]:
    """A family as a DCI Group (members given with the family's columns joined in)."""
    out: dict[str, Any] = {"@type": "Group"}
    if "identifier" in allowed:
        out["identifier"] = [{"@type": "Identifier", "identifier_type": "KK", "identifier_value": row["no_kk"]}]
    out.update(_common(row, allowed))
    if "group_size" in allowed:
        out["group_size"] = int(row["group_size"])
    if "last_updated" in allowed:
        out["last_updated"] = _iso(row["updated_at"])
    if "members" in allowed:
        out["members"] = [person(m, allowed - {"household_identifier"}, today) for m in members]
    return out
