"""Wilayah scope checks of writes, shared by every service: a write must reach the record as it is and as it will be."""

from __future__ import annotations

from shared.auth.principal import Principal
from shared.http.problems import ProblemError


def ensure_covers(principal: Principal, code: str, *, what: str = "record") -> None:
    """403 when the caller may not act in wilayah `code`."""
    if not principal.covers(code):
        raise ProblemError(
            403,
            f"This {what} lies in wilayah {code}, outside your scope {principal.wilayah}.",
            code="out_of_scope",
        )


def ensure_write_scope(principal: Principal, *, current: str | None, proposed: str, what: str = "record") -> None:
    """403 unless the caller's scope covers both the stored record's wilayah (`current`, None for a new record) and
    the wilayah the write gives it (`proposed`).

    Checking only the new wilayah would let a kecamatan-scoped caller take over a record of another kecamatan (or a
    kota-level one) by moving it into their own scope: the record as it is must be theirs to change first."""
    if current is not None and not principal.covers(current):
        raise ProblemError(
            403,
            f"This {what} lies in wilayah {current}, outside your scope {principal.wilayah}; "
            "only a caller whose scope covers it may change it.",
            code="out_of_scope",
            current_wilayah=current,
        )
    ensure_covers(principal, proposed, what=what)
