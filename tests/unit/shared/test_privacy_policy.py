"""The one field policy: who sees sensitive fields, applied to nested response models."""

from __future__ import annotations

from pydantic import BaseModel

from shared.auth.permissions import Permission, allowed
from shared.auth.principal import Role
from shared.privacy.policy import (
    FIELD_POLICY,
    PERSONAL_FIELDS,
    SENSITIVE_FIELDS,
    age_band,
    initials,
    masked,
    may_see,
    withhold,
)


class _Inner(BaseModel):
    pregnant: int | None
    members: int


class _Outer(BaseModel):
    disability: str | None
    status: str
    inner: _Inner
    rows: list[_Inner]


def _sample() -> _Outer:
    inner = _Inner(pregnant=1, members=4)
    return _Outer(disability="severe", status="x", inner=inner, rows=[inner, inner])


def test_sensitive_fields_follow_read_sensitive_and_identifiers_read_full_identifiers() -> None:
    assert {"pregnant", "disability", "disabled_severe"} <= SENSITIVE_FIELDS
    for field in SENSITIVE_FIELDS:
        assert FIELD_POLICY[field] is Permission.READ_SENSITIVE
    for field in ("nik", "no_kk", "head_nik"):
        assert FIELD_POLICY[field] is Permission.READ_FULL_IDENTIFIERS
    for role in Role:
        assert may_see(role, "pregnant") is allowed(role, Permission.READ_SENSITIVE)
        assert may_see(role, "members")


def test_withhold_nulls_sensitive_fields_at_every_depth_for_roles_without_the_permission() -> None:
    for role in Role:
        out = withhold(_sample(), role)
        if allowed(role, Permission.READ_SENSITIVE):
            assert out == _sample()
            continue
        assert out.disability is None
        assert out.inner.pregnant is None
        assert [r.pregnant for r in out.rows] == [None, None]
        assert (out.status, out.inner.members, [r.members for r in out.rows]) == ("x", 4, [4, 4])


class _Member(BaseModel):
    name: str
    address: str | None
    age: int | None
    latitude: float | None
    pregnant: bool | None


def test_personal_details_are_masked_for_roles_without_read_personal_data_unless_revealed() -> None:
    plain = _Member(name="budi  Santoso", address="Jl. Nipah No. 7", age=44, latitude=-0.94712, pregnant=True)
    assert {"name", "address", "birth_place", "age", "latitude", "longitude"} == PERSONAL_FIELDS
    for role in Role:
        out = withhold(plain, role)
        if allowed(role, Permission.READ_PERSONAL_DATA):
            assert (out.name, out.address, out.age, out.latitude) == ("budi  Santoso", "Jl. Nipah No. 7", 44, -0.94712)
        else:
            assert (out.name, out.address, out.age, out.latitude) == ("B. S.", None, None, -0.95)
        revealed = withhold(plain, role, revealed=True)
        assert (revealed.name, revealed.address) == ("budi  Santoso", "Jl. Nipah No. 7")
        # Revealing lifts the masking of personal details, never the sensitive-data permission.
        assert (revealed.pregnant is None) is not allowed(role, Permission.READ_SENSITIVE)
    assert not allowed(Role.AUDITOR, Permission.READ_PERSONAL_DATA)
    assert not allowed(Role.KEPALA_DINAS, Permission.READ_PERSONAL_DATA)
    assert allowed(Role.TKSK, Permission.READ_PERSONAL_DATA)


def test_snapshots_leave_withheld_keys_out_and_mask_the_rest_at_every_depth() -> None:
    snapshot = {"members": [{"name": "Siti Aminah", "disability": "severe", "address": "Jl. X", "rt": "002"}]}
    assert masked(snapshot, Role.AUDITOR) == {"members": [{"name": "S. A.", "rt": "002"}]}
    assert masked(snapshot, Role.TKSK) == snapshot


def test_initials_and_age_bands() -> None:
    assert (initials("Budi Santoso"), initials("  "), initials(None)) == ("B. S.", None, None)
    assert [age_band(a) for a in (None, 0, 6, 7, 17, 18, 59, 60, 69, 70, 101)] == [
        None,
        "0-6",
        "0-6",
        "7-17",
        "7-17",
        "18-59",
        "18-59",
        "60-69",
        "60-69",
        "70+",
        "70+",
    ]
