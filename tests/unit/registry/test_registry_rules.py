"""Plain registry rules: composition counting, status transitions, flag rules, desil periods, stale outcomes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.registry.desil.rules import desil_since_after, valid_period
from services.registry.domain.flags import FlagStatus, can_resolve, should_raise
from services.registry.families.privacy import Viewer, redact
from services.registry.families.repository import decode_cursor, encode_cursor
from services.registry.families.router import parse_if_match
from services.registry.families.rules import MemberFacts, age_on, composition, status_after_change, status_from_outcome
from services.registry.outcomes.handlers import is_stale
from shared.auth.principal import Principal, Role
from shared.events.household import DataStatus
from shared.http.problems import ProblemError

TODAY = date(2026, 6, 30)


def person(born: date | None, **kw: object) -> MemberFacts:
    values: dict[str, object] = {
        "active": True,
        "deceased": False,
        "birth_date": born,
        "school_status": None,
        "disability": None,
        "pregnant": None,
    }
    values.update(kw)
    return MemberFacts(**values)  # type: ignore[arg-type]


def test_age_counts_completed_years() -> None:
    assert age_on(date(2020, 7, 1), TODAY) == 5
    assert age_on(date(2020, 6, 30), TODAY) == 6
    assert age_on(date(2000, 2, 29), date(2026, 2, 28)) == 25


def test_composition_counts_only_living_active_members() -> None:
    members = [
        person(date(1950, 1, 1)),  # 76: elderly
        person(date(1956, 7, 1)),  # 69 until tomorrow: not yet elderly
        person(date(2019, 7, 1), school_status="sd"),  # 6: child 0-6 and in SD
        person(date(2019, 6, 30)),  # 7 today: no longer 0-6
        person(date(2012, 1, 1), school_status="smp", disability="severe"),
        person(date(1990, 1, 1), pregnant=True),
        person(date(1995, 1, 1), disability="mild", school_status="college"),
        person(date(2024, 1, 1), deceased=True),
        person(date(2023, 1, 1), active=False),
        person(None, school_status="sma"),
    ]
    c = composition(members, TODAY)
    assert c.model_dump() == {
        "members": 8,
        "children_0_6": 1,
        "school_sd": 1,
        "school_smp": 1,
        "school_sma": 1,
        "elderly_70": 1,
        "disabled_severe": 1,
        "pregnant": 1,
    }


def _status(
    status: DataStatus,
    reason: str | None = None,
    *,
    open_flags: tuple[str, ...] = (),
    confirmed: tuple[str, ...] = (),
    living: int = 2,
) -> tuple[str, str | None, str]:
    d = status_after_change(
        data_status=status,
        reason=reason,
        existence_status="present",
        open_flags=open_flags,
        confirmed_flags=confirmed,
        living_members=living,
        any_members=True,
    )
    return d.data_status.value, d.reason, d.existence_status


def test_status_transitions() -> None:
    assert _status(DataStatus.ACTIVE) == ("active", None, "present")
    assert _status(DataStatus.ACTIVE, open_flags=("duplicate_nik",)) == ("needs_verification", "open_flag", "present")
    # The last open flag resolved: back to active, but only when the flags were the reason.
    assert _status(DataStatus.NEEDS_VERIFICATION, "open_flag") == ("active", None, "present")
    assert _status(DataStatus.NEEDS_VERIFICATION, "objection") == ("needs_verification", "objection", "present")
    assert _status(DataStatus.ACTIVE, confirmed=("excluded_occupation",)) == ("inactive", "excluded", "present")
    assert _status(DataStatus.ACTIVE, confirmed=("duplicate_kk",)) == ("inactive", "duplicate", "duplicate")
    assert _status(DataStatus.ACTIVE, confirmed=("invalid_nik",)) == ("active", None, "present")
    assert _status(DataStatus.ACTIVE, living=0) == ("inactive", "deceased", "all_deceased")
    # Inactive stays inactive whatever the flags say: only a ground check brings it back.
    assert _status(DataStatus.INACTIVE, "moved") == ("inactive", "moved", "present")


def test_a_family_without_members_is_not_all_deceased() -> None:
    d = status_after_change(
        data_status=DataStatus.ACTIVE,
        reason=None,
        existence_status="present",
        open_flags=(),
        confirmed_flags=(),
        living_members=0,
        any_members=False,
    )
    assert d.data_status == DataStatus.ACTIVE


def test_status_from_outcome() -> None:
    assert status_from_outcome("layak", None, "moved") == status_from_outcome("layak", "x", "present")
    assert status_from_outcome("layak", None, "moved").data_status == DataStatus.ACTIVE
    d = status_from_outcome("tidak_layak", "not_found", "present")
    assert (d.data_status, d.reason, d.existence_status) == (DataStatus.INACTIVE, "not_found", "not_found")
    d = status_from_outcome("tidak_layak", "well_off", "present")
    assert (d.reason, d.existence_status) == ("well_off", "present")


def test_flag_rules() -> None:
    assert should_raise([])
    assert should_raise([FlagStatus.CLEARED])
    assert not should_raise([FlagStatus.CLEARED, FlagStatus.REFUTED])
    assert not should_raise([FlagStatus.CONFIRMED])
    assert not should_raise([FlagStatus.OPEN])
    assert can_resolve(FlagStatus.OPEN)
    assert not any(can_resolve(s) for s in (FlagStatus.CONFIRMED, FlagStatus.REFUTED, FlagStatus.CLEARED))


def test_desil_periods() -> None:
    assert valid_period("2026-Q1")
    assert not valid_period("2026-Q5")
    assert not valid_period("2026Q1")
    first = desil_since_after(current=None, current_period=None, since=None, new=4, period="2026-Q1")
    assert first == (True, "2026-Q1")
    assert desil_since_after(current=4, current_period="2026-Q1", since="2026-Q1", new=4, period="2026-Q2") == (
        True,
        "2026-Q1",
    )
    assert desil_since_after(current=4, current_period="2026-Q2", since="2026-Q1", new=6, period="2026-Q3") == (
        True,
        "2026-Q3",
    )
    assert desil_since_after(current=4, current_period="2026-Q2", since="2026-Q1", new=6, period="2025-Q4") == (
        False,
        "2026-Q1",
    )


def test_stale_outcomes() -> None:
    t = datetime(2026, 5, 1, 10, tzinfo=UTC)
    assert not is_stale(t, None)
    assert is_stale(t, t)
    assert is_stale(t, datetime(2026, 5, 1, 11))  # naive (SQLite) values are UTC
    assert not is_stale(t, datetime(2026, 5, 1, 9, tzinfo=UTC))


def test_if_match_parsing() -> None:
    assert parse_if_match(None) is None
    assert parse_if_match('"3"') == 3
    assert parse_if_match('W/"12"') == 12
    with pytest.raises(ProblemError) as err:
        parse_if_match('"abc"')
    assert err.value.status == 412


def test_cursor_round_trip_and_garbage() -> None:
    assert decode_cursor(encode_cursor("13.71.01.1001", "abc")) == ("13.71.01.1001", "abc")
    for bad in ("!!!", "e30", encode_cursor("a", "b")[:-3]):
        with pytest.raises(ProblemError):
            decode_cursor(bad)


def test_history_redaction() -> None:
    snapshot = {
        "no_kk": "1371010101150012",
        "members": [{"nik": "1371011505800001", "birth_date": "1980-05-15", "disability": "severe", "name": "Budi"}],
    }
    psm = Viewer(Principal("p", Role.PSM, "13.71.01"))
    assert redact(snapshot, psm) == {
        "no_kk": "1371••••••••0012",
        "members": [{"nik": "1371••••••••0001", "name": "Budi"}],
    }
    tksk = Viewer(Principal("t", Role.TKSK, "13.71.01"), reveal=True, purpose="visit")
    assert redact(snapshot, tksk) == snapshot
