"""Who is calling: subject, role and wilayah scope, read from a verified token."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

KOTA_PADANG = "13.71"


class Role(StrEnum):
    """Roles of DOMAIN §2 plus system clients."""

    OPERATOR_KELURAHAN = "operator_kelurahan"
    LURAH = "lurah"
    PSM = "psm"
    TKSK = "tksk"
    PENDAMPING_PKH = "pendamping_pkh"
    VERIFIKATOR = "verifikator"
    KEPALA_DINAS = "kepala_dinas"
    AUDITOR = "auditor"
    SYSTEM = "system"


class ScopeLevel(StrEnum):
    """How wide a principal's wilayah scope is."""

    KOTA = "kota"
    KECAMATAN = "kecamatan"
    KELURAHAN = "kelurahan"


def scope_level_of(code: str) -> ScopeLevel:
    """The level of a wilayah code: 13.71 kota, 13.71.01 kecamatan, 13.71.01.1001 kelurahan."""
    parts = code.split(".")
    if len(parts) == 2:
        return ScopeLevel.KOTA
    if len(parts) == 3:
        return ScopeLevel.KECAMATAN
    if len(parts) == 4:
        return ScopeLevel.KELURAHAN
    raise ValueError(f"not a kota, kecamatan or kelurahan code: {code!r}")


def code_within(code: str, scope_code: str) -> bool:
    """True when wilayah `code` lies inside `scope_code` (on code boundaries, never by name)."""
    return code == scope_code or code.startswith(scope_code + ".")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    subject: str
    role: Role
    wilayah: str
    client_type: str = "user"

    @property
    def scope_level(self) -> ScopeLevel:
        """Kota, kecamatan or kelurahan."""
        return scope_level_of(self.wilayah)

    def covers(self, wilayah_code: str) -> bool:
        """May this principal see records located in `wilayah_code`?"""
        return code_within(wilayah_code, self.wilayah)

    def scope_prefix(self) -> str:
        """A LIKE-free prefix for SQL filters on dotted codes: rows match `code = w OR code LIKE w || '.%'`."""
        return self.wilayah
