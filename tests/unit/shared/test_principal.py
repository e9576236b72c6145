"""Wilayah scope follows code boundaries, never name or string prefixes."""

from __future__ import annotations

import pytest

from shared.auth.permissions import Permission, allowed, permissions_of
from shared.auth.principal import Principal, Role, ScopeLevel, code_within, scope_level_of


@pytest.mark.parametrize(
    ("code", "scope", "inside"),
    [
        ("13.71.01.1001", "13.71", True),
        ("13.71.01.1001", "13.71.01", True),
        ("13.71.01.1001", "13.71.01.1001", True),
        ("13.71.10.1004", "13.71.01", False),  # '13.71.1' must not match '13.71.10'
        ("13.71.11.1001", "13.71.1", False),
        ("13.71.09.1001", "13.71.01", False),
        ("13.72.01.1001", "13.71", False),
    ],
)
def test_code_within(code: str, scope: str, inside: bool) -> None:
    assert code_within(code, scope) is inside


def test_scope_levels() -> None:
    assert scope_level_of("13.71") is ScopeLevel.KOTA
    assert scope_level_of("13.71.01") is ScopeLevel.KECAMATAN
    assert scope_level_of("13.71.01.1001") is ScopeLevel.KELURAHAN
    with pytest.raises(ValueError, match="not a kota"):
        scope_level_of("13")


def test_tksk_covers_only_own_kecamatan() -> None:
    tksk = Principal(subject="t", role=Role.TKSK, wilayah="13.71.01")
    assert tksk.covers("13.71.01.1003")
    assert not tksk.covers("13.71.09.1001")


def test_auditor_reads_but_never_writes() -> None:
    assert allowed(Role.AUDITOR, Permission.READ_AUDIT)
    assert not allowed(Role.AUDITOR, Permission.WRITE_HOUSEHOLD)
    assert Permission.WRITE_HOUSEHOLD not in permissions_of(Role.AUDITOR)
