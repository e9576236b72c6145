"""Wilayah scope of the caller, as SQL filters and checks (ARCHITECTURE §6)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from shared.auth.principal import Principal, ScopeLevel
from shared.db.expressions import within
from shared.http.problems import ProblemError


def within_scope(column: Any, principal: Principal) -> ColumnElement[bool]:
    """Rows whose wilayah code lies inside the caller's scope (by code boundary, never by name)."""
    return within(column, principal.wilayah)


def require_kota(principal: Principal, action: str) -> None:
    """Kota-wide actions (tahap, imports, rules) need a kota-wide scope."""
    if principal.scope_level is not ScopeLevel.KOTA:
        raise ProblemError(403, f"Only a kota-wide principal may {action}.", code="scope")
