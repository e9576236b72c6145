"""Which response fields carry personal data, and which permission a caller needs to see them.

One table for every service: a field named here means the same thing wherever it appears (a member's `pregnant`
flag in the registry, a family's `pregnant` count in a disbursement list), so it follows the same permission.
Sensitive fields are withheld (answered as null) from roles without the permission; identifiers are masked unless
the caller reveals them with a purpose (the registry's `reveal` flow, which checks READ_FULL_IDENTIFIERS).
`withhold` is the one mechanism services apply to a response model before returning it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from shared.auth.permissions import Permission, allowed
from shared.auth.principal import Role

# Health and disability facts (UU PDP art. 4: specific personal data). Counts of them per family count too: a
# count of 1 in a one-adult family is the fact itself.
SENSITIVE_FIELDS = frozenset({"pregnant", "disability", "disabled_severe"})
# Population identifiers (UU Adminduk): masked unless revealed with a purpose.
IDENTIFIER_FIELDS = frozenset({"nik", "no_kk", "head_nik"})

FIELD_POLICY: Mapping[str, Permission] = {
    **dict.fromkeys(SENSITIVE_FIELDS, Permission.READ_SENSITIVE),
    **dict.fromkeys(IDENTIFIER_FIELDS, Permission.READ_FULL_IDENTIFIERS),
}

M = TypeVar("M", bound=BaseModel)


def may_see(role: Role, field: str) -> bool:
    """May `role` see the plain value of a field of this name (fields not in the policy: yes)."""
    needed = FIELD_POLICY.get(field)
    return needed is None or allowed(role, needed)


def _withheld(value: Any, role: Role) -> Any:
    if isinstance(value, BaseModel):
        return withhold(value, role)
    if isinstance(value, list):
        return [_withheld(v, role) for v in value]
    return value


def withhold(model: M, role: Role) -> M:
    """The model (and the models nested in it) with every sensitive field the role may not see set to None."""
    update: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if name in SENSITIVE_FIELDS and not may_see(role, name):
            if value is not None:
                update[name] = None
            continue
        shown = _withheld(value, role)
        if shown is not value:
            update[name] = shown
    return model.model_copy(update=update) if update else model
