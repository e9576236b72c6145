"""Which response fields carry personal data, and which permission a caller needs to see them.

One table for every service: a field named here means the same thing wherever it appears (a member's `pregnant`
flag in the registry, a family's `pregnant` count in a disbursement list), so it follows the same permission.

- Sensitive fields (health, disability) are withheld (null) from roles without READ_SENSITIVE; revealing does
  not lift that.
- Personal details (names, addresses, places and dates of birth, exact age, home coordinates) are shown to the
  roles whose work needs them (READ_PERSONAL_DATA: field officers, kelurahan staff, verifikator); other roles see
  them masked (initials, RT/RW only, an age band, coordinates to about a kilometre) unless they reveal with a
  purpose (the registry's audited `reveal` flow, which needs READ_FULL_IDENTIFIERS).
- Identifiers (NIK, No. KK) are masked for everyone unless revealed with a purpose (the same flow).

`withhold` is the one mechanism services apply to a response model (`masked` to a loose mapping) before returning it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from shared.auth.permissions import Permission, allowed
from shared.auth.principal import Role


@dataclass(frozen=True)
class FieldRule:
    """Who sees a field plainly, what the others see, and whether an audited reveal shows it."""

    permission: Permission
    mask: Callable[[Any], Any]
    revealable: bool


def initials(name: Any) -> Any:
    """'Budi Santoso' -> 'B. S.' (enough to tell members of one family apart, not to find a person)."""
    if not isinstance(name, str):
        return name
    return " ".join(f"{part[0].upper()}." for part in name.split() if part) or None


def coarse_coordinate(value: Any) -> Any:
    """A coordinate to two decimals (about 1 km): the neighbourhood, not the house."""
    return round(value, 2) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _drop(_: Any) -> None:
    return None


def age_band(age: int | None) -> str | None:
    """The programme-relevant age band of an age (children 0-6, school age, adults, elderly 70+)."""
    if age is None:
        return None
    for upper, band in ((6, "0-6"), (17, "7-17"), (59, "18-59"), (69, "60-69")):
        if age <= upper:
            return band
    return "70+"


# Health and disability facts (UU PDP art. 4: specific personal data). Counts of them per family count too: a
# count of 1 in a one-adult family is the fact itself.
SENSITIVE_FIELDS = frozenset({"pregnant", "disability", "disabled_severe"})
# Population identifiers (UU Adminduk): masked for everyone unless revealed with a purpose (registry `Viewer`).
IDENTIFIER_FIELDS = frozenset({"nik", "no_kk", "head_nik"})

POLICY: Mapping[str, FieldRule] = {
    **{f: FieldRule(Permission.READ_SENSITIVE, _drop, revealable=False) for f in SENSITIVE_FIELDS},
    "name": FieldRule(Permission.READ_PERSONAL_DATA, initials, revealable=True),
    "address": FieldRule(Permission.READ_PERSONAL_DATA, _drop, revealable=True),
    "birth_place": FieldRule(Permission.READ_PERSONAL_DATA, _drop, revealable=True),
    "age": FieldRule(Permission.READ_PERSONAL_DATA, _drop, revealable=True),
    "latitude": FieldRule(Permission.READ_PERSONAL_DATA, coarse_coordinate, revealable=True),
    "longitude": FieldRule(Permission.READ_PERSONAL_DATA, coarse_coordinate, revealable=True),
}
PERSONAL_FIELDS = frozenset(f for f, rule in POLICY.items() if rule.permission is Permission.READ_PERSONAL_DATA)

FIELD_POLICY: Mapping[str, Permission] = {
    **{f: rule.permission for f, rule in POLICY.items()},
    **dict.fromkeys(IDENTIFIER_FIELDS, Permission.READ_FULL_IDENTIFIERS),
}

M = TypeVar("M", bound=BaseModel)


def may_see(role: Role, field: str, *, revealed: bool = False) -> bool:
    """May `role` see the plain value of a field of this name (fields not in the policy: yes)."""
    rule = POLICY.get(field)
    return rule is None or allowed(role, rule.permission) or (revealed and rule.revealable)


def shown(field: str, value: Any, role: Role, *, revealed: bool = False) -> Any:
    """The value of one field as this role sees it."""
    if value is None or may_see(role, field, revealed=revealed):
        return value
    return POLICY[field].mask(value)


def _nested(value: Any, role: Role, revealed: bool) -> Any:
    if isinstance(value, BaseModel):
        return withhold(value, role, revealed=revealed)
    if isinstance(value, list):
        return [_nested(v, role, revealed) for v in value]
    return value


def withhold(model: M, role: Role, *, revealed: bool = False) -> M:
    """The model (and the models nested in it) with every field the policy names as this role may see it."""
    update: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        new = shown(name, value, role, revealed=revealed) if name in POLICY else _nested(value, role, revealed)
        if new is not value:
            update[name] = new
    return model.model_copy(update=update) if update else model


def masked(value: Any, role: Role, *, revealed: bool = False) -> Any:
    """A loose JSON value (a history snapshot) with the policy applied to every key at every depth.

    Withheld fields are left out rather than nulled: a snapshot records what changed, and a key with null would
    read as "cleared"."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k in POLICY and v is not None and not may_see(role, k, revealed=revealed):
                hidden = POLICY[k].mask(v)
                if hidden is not None:
                    out[k] = hidden
                continue
            out[k] = masked(v, role, revealed=revealed)
        return out
    if isinstance(value, list):
        return [masked(v, role, revealed=revealed) for v in value]
    return value
