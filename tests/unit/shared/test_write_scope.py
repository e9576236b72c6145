"""The write scope check: the record as it is and as it will be must both lie in the caller's scope."""

from __future__ import annotations

import pytest

from shared.auth.principal import Principal, Role
from shared.auth.scope import ensure_write_scope
from shared.http.problems import ProblemError

KEC = Principal("kadis-01", Role.KEPALA_DINAS, "13.71.01")


@pytest.mark.parametrize(
    ("current", "proposed"),
    [
        (None, "13.71.01"),  # a new record inside the scope
        ("13.71.01.1001", "13.71.01.1002"),  # moved within the scope
        ("13.71.01", "13.71.01.1001"),
    ],
)
def test_inside_on_both_sides_passes(current: str | None, proposed: str) -> None:
    ensure_write_scope(KEC, current=current, proposed=proposed, what="officer")


@pytest.mark.parametrize(
    ("current", "proposed", "detail"),
    [
        ("13.71.02", "13.71.01", "13.71.02"),  # another kecamatan's record pulled into the scope
        ("13.71", "13.71.01.1001", "13.71,"),  # a kota record turned into a kelurahan one
        ("13.71.01.1001", "13.71.09", "13.71.09"),  # pushed out of the scope
        (None, "13.71.010", "13.71.010"),  # prefix without a code boundary is not inside
    ],
)
def test_outside_on_either_side_is_refused(current: str | None, proposed: str, detail: str) -> None:
    with pytest.raises(ProblemError) as exc:
        ensure_write_scope(KEC, current=current, proposed=proposed, what="officer")
    assert (exc.value.status, exc.value.code) == (403, "out_of_scope")
    assert detail in exc.value.detail
