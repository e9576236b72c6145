"""The one field policy: who sees sensitive fields, applied to nested response models."""

from __future__ import annotations

from pydantic import BaseModel

from shared.auth.permissions import Permission, allowed
from shared.auth.principal import Role
from shared.privacy.policy import FIELD_POLICY, SENSITIVE_FIELDS, may_see, withhold


class _Inner(BaseModel):
    pregnant: int | None
    members: int


class _Outer(BaseModel):
    disability: str | None
    name: str
    inner: _Inner
    rows: list[_Inner]


def _sample() -> _Outer:
    inner = _Inner(pregnant=1, members=4)
    return _Outer(disability="severe", name="x", inner=inner, rows=[inner, inner])


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
        assert (out.name, out.inner.members, [r.members for r in out.rows]) == ("x", 4, [4, 4])
