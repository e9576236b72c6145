"""The permission table: which role may do what, kept in this one place."""

from __future__ import annotations

from enum import StrEnum

from shared.auth.principal import Role


class Permission(StrEnum):
    """Actions guarded by role (wilayah scope is checked separately, per record)."""

    READ_HOUSEHOLD = "read households"
    WRITE_HOUSEHOLD = "change households"
    READ_FULL_IDENTIFIERS = "read unmasked NIK and No. KK"
    READ_SENSITIVE = "read sensitive personal data"
    IMPORT_DATA = "import national extracts and external lists"
    RESOLVE_FLAG = "confirm or refute data-quality flags"
    READ_AGGREGATES = "read aggregates"
    READ_AUDIT = "read audit logs"
    OPERATE = "run operations commands"


_ALL_READ = {Permission.READ_HOUSEHOLD, Permission.READ_AGGREGATES}
_TABLE: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR_KELURAHAN: frozenset(_ALL_READ | {Permission.WRITE_HOUSEHOLD}),
    Role.LURAH: frozenset(_ALL_READ),
    Role.PSM: frozenset(_ALL_READ),
    Role.TKSK: frozenset(_ALL_READ | {Permission.READ_FULL_IDENTIFIERS, Permission.READ_SENSITIVE}),
    Role.PENDAMPING_PKH: frozenset(_ALL_READ | {Permission.READ_SENSITIVE}),
    Role.VERIFIKATOR: frozenset(
        _ALL_READ
        | {
            Permission.WRITE_HOUSEHOLD,
            Permission.READ_FULL_IDENTIFIERS,
            Permission.READ_SENSITIVE,
            Permission.IMPORT_DATA,
            Permission.RESOLVE_FLAG,
        }
    ),
    Role.KEPALA_DINAS: frozenset(_ALL_READ),
    Role.AUDITOR: frozenset(_ALL_READ | {Permission.READ_AUDIT, Permission.READ_FULL_IDENTIFIERS}),
    Role.SYSTEM: frozenset({Permission.READ_AGGREGATES, Permission.IMPORT_DATA, Permission.OPERATE}),
}


def allowed(role: Role, permission: Permission) -> bool:
    """Does `role` hold `permission`?"""
    return permission in _TABLE.get(role, frozenset())


def permissions_of(role: Role) -> frozenset[Permission]:
    """Everything a role may do (for docs and the authorisation matrix test)."""
    return _TABLE.get(role, frozenset())
