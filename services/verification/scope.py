"""Wilayah scope of the caller, applied to every query and action of the verification service."""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy.sql.elements import ColumnClause

from shared.auth.principal import Principal
from shared.db.expressions import within
from shared.http.problems import ProblemError


def within_scope(column: ColumnClause[str] | ColumnElement[str], principal: Principal) -> ColumnElement[bool]:
    """SQL filter: the row's wilayah code lies inside the caller's scope (on code boundaries)."""
    return within(column, principal.scope_prefix())


def not_found(what: str, ident: object) -> ProblemError:
    """404 for a record that does not exist or that the caller's scope does not reach (no existence leak)."""
    return ProblemError(404, f"No {what} {ident} in your wilayah.", code="not_found")
