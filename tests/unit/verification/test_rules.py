"""Transition tables and domain rules of the verification service."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from services.verification.campaigns.service import months_before
from services.verification.groundchecks.rules import (
    GROUND_CHECK_MACHINE,
    CheckReason,
    approval_refusal,
    current_bands,
    desil_crossings,
    desil_thresholds,
    evidence_hash,
    flag_reason,
    is_overdue,
    may_take,
    new_flags,
    unknown_approver_family,
)
from services.verification.groundchecks.schemas import Questionnaire, VisitIn
from services.verification.households.rules import ProgrammeBand
from services.verification.objections.rules import OBJECTION_MACHINE, due_date, is_resident
from services.verification.proposals.rules import PROPOSAL_MACHINE, ProposalAction, cycle_of, submit_action
from services.verification.ratification.rules import BATCH_MACHINE, may_ratify, missing_attachments
from shared.http.problems import ProblemError
from shared.statemachine import IllegalTransition, advance

HAPPY_PROPOSAL = [
    ("draft", "submit", "submitted"),
    ("submitted", "discuss", "muskel_discussed"),
    ("muskel_discussed", "muskel_approve", "muskel_approved"),
    ("muskel_approved", "enter", "entered"),
    ("entered", "start_review", "completeness_check"),
    ("completeness_check", "complete", "complete"),
    ("complete", "schedule", "ground_check_scheduled"),
    ("ground_check_scheduled", "check_done", "ground_check_done"),
    ("ground_check_done", "declare_eligible", "eligible"),
    ("eligible", "queue", "awaiting_ratification"),
    ("awaiting_ratification", "ratify", "ratified"),
    ("ratified", "send", "sent"),
]


@pytest.mark.parametrize(("state", "action", "target"), HAPPY_PROPOSAL)
def test_proposal_happy_path(state: str, action: str, target: str) -> None:
    assert PROPOSAL_MACHINE.next(state, action) == target


def test_proposal_branches() -> None:
    m = PROPOSAL_MACHINE
    assert m.next("muskel_discussed", "muskel_reject") == "rejected"
    assert m.next("completeness_check", "return") == "returned"
    assert m.next("returned", "submit") == "submitted"
    assert m.next("ground_check_done", "declare_not_eligible") == "not_eligible"
    assert m.next("draft", "submit_direct") == "complete"
    for final in ("rejected", "not_eligible", "sent"):
        assert m.allowed(final, public_only=False) == []
    assert m.final == {"rejected", "not_eligible", "sent"}


def test_every_proposal_state_is_reachable_from_draft() -> None:
    m, seen, todo = PROPOSAL_MACHINE, {"draft"}, ["draft"]
    while todo:
        state = todo.pop()
        for action in m.allowed(state, public_only=False):
            nxt = m.next(state, action)
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == m.states()


@pytest.mark.parametrize(
    ("state", "action"),
    [("draft", "enter"), ("submitted", "complete"), ("rejected", "submit"), ("sent", "send"), ("eligible", "submit")],
)
def test_illegal_proposal_transitions_name_state_and_allowed(state: str, action: str) -> None:
    with pytest.raises(IllegalTransition) as exc:
        PROPOSAL_MACHINE.next(state, action)
    assert exc.value.state == state
    assert exc.value.allowed == PROPOSAL_MACHINE.allowed(state)
    with pytest.raises(ProblemError) as problem:
        advance(PROPOSAL_MACHINE, state, action)
    assert problem.value.status == 409
    assert problem.value.extra == {"current_state": state, "allowed_actions": PROPOSAL_MACHINE.allowed(state)}


def test_public_actions_hide_system_steps() -> None:
    assert PROPOSAL_MACHINE.allowed("complete") == []  # schedule is a system step
    assert PROPOSAL_MACHINE.allowed("draft") == ["submit"]
    assert set(PROPOSAL_MACHINE.public) == {a.value for a in ProposalAction}


def test_submit_action_depends_on_channel() -> None:
    direct = ["citizen_app", "digital_agent"]
    assert submit_action("draft", "citizen_app", direct) == "submit_direct"
    assert submit_action("draft", "digital_agent", direct) == "submit_direct"
    assert submit_action("draft", "kelurahan", direct) == "submit"
    assert submit_action("returned", "citizen_app", direct) == "submit"  # a returned one goes the normal way
    assert submit_action("draft", "citizen_app", []) == "submit"


@pytest.mark.parametrize(
    ("moment", "cutoff", "cycle"),
    [
        (datetime(2026, 3, 14, 23, 59, tzinfo=UTC), 14, "2026-03"),
        (datetime(2026, 3, 15, 0, 0, tzinfo=UTC), 14, "2026-04"),
        (datetime(2026, 12, 20, tzinfo=UTC), 14, "2027-01"),
        (datetime(2026, 12, 1, tzinfo=UTC), 1, "2026-12"),
        (datetime(2026, 2, 28, tzinfo=UTC), 28, "2026-02"),
    ],
)
def test_cycle_cutoff(moment: datetime, cutoff: int, cycle: str) -> None:
    assert cycle_of(moment, cutoff) == cycle


def test_ground_check_machine() -> None:
    m = GROUND_CHECK_MACHINE
    assert m.next("open", "assign") == "assigned"
    assert m.next("assigned", "assign") == "assigned"
    assert m.next("assigned", "submit_visit") == "visited"
    assert m.next("visited", "approve") == "approved"
    assert m.next("visited", "return") == "assigned"
    assert m.next("open", "cancel") == m.next("assigned", "cancel") == "cancelled"
    for state, action in [("open", "approve"), ("visited", "cancel"), ("approved", "return"), ("cancelled", "assign")]:
        with pytest.raises(IllegalTransition):
            m.next(state, action)
    assert m.allowed("approved") == m.allowed("cancelled") == []
    assert m.allowed("visited") == ["approve", "return"]


def test_objection_and_batch_machines() -> None:
    o = OBJECTION_MACHINE
    assert o.next("received", "start_verification") == "under_verification"
    assert o.next("under_verification", "uphold") == "upheld"
    assert o.next("under_verification", "reject") == "rejected"
    assert o.next("under_verification", "lapse") == o.next("received", "lapse") == "lapsed"
    for final in ("upheld", "rejected", "lapsed"):
        assert o.allowed(final, public_only=False) == []
    b = BATCH_MACHINE
    assert [b.next(*s) for s in (("draft", "submit"), ("submitted", "ratify"), ("ratified", "send"))] == [
        "submitted",
        "ratified",
        "sent",
    ]
    with pytest.raises(IllegalTransition):
        b.next("draft", "ratify")
    with pytest.raises(IllegalTransition):
        b.next("submitted", "send")


def test_flag_and_desil_triggers() -> None:
    watched = ["deceased_dukcapil", "duplicate_nik", "excluded_occupation"]
    assert new_flags([], ["deceased_dukcapil", "car_owner"], watched) == ["deceased_dukcapil"]
    assert new_flags(["deceased_dukcapil"], ["deceased_dukcapil", "duplicate_nik"], watched) == ["duplicate_nik"]
    assert new_flags(["duplicate_nik"], [], watched) == []
    assert flag_reason("duplicate_nik") == CheckReason.FLAG_DUPLICATE_NIK
    assert desil_crossings(4, 5, [4, 5]) == [4]
    assert desil_crossings(3, 7, [4, 5]) == [4, 5]
    assert desil_crossings(6, 5, [4, 5]) == [5]  # moving back down crosses too
    assert desil_crossings(6, 9, [4, 5]) == []
    assert desil_crossings(None, 2, [4, 5]) == desil_crossings(3, None, [4, 5]) == []


def test_four_eyes_rule() -> None:
    ok: dict[str, Any] = {
        "approver": "v1",
        "approver_families": {"hh-9"},
        "submitted_by": "psm-1",
        "check_families": ["hh-1"],
    }
    assert approval_refusal(**ok) is None
    assert approval_refusal(**ok | {"approver": "psm-1"}) is not None
    assert "own family" in str(approval_refusal(**ok | {"approver_families": {"hh-9", "hh-1"}}))
    assert approval_refusal(**ok | {"approver_families": set()}) is None
    assert approval_refusal(**ok, proposal_creators=["v1"]) is not None
    # The usulan's family counts as much as the checked one; a new family's check has none yet.
    assert "own family" in str(approval_refusal(**ok | {"check_families": [None, "hh-9"]}))
    assert approval_refusal(**ok | {"check_families": [None]}) is None


def test_the_approvers_own_family_must_be_known() -> None:
    declared = {"active": True, "nik_digest": "d" * 64, "no_registered_family": True}
    assert unknown_approver_family(declared, set()) is None
    # A family found by the NIK is the fact itself: no declaration needed.
    assert unknown_approver_family(declared | {"no_registered_family": False}, {"hh-1"}) is None
    assert "not a registered officer" in str(unknown_approver_family(None, set()))
    assert "inactive" in str(unknown_approver_family(declared | {"active": False}, set()))
    assert "NIK is not recorded" in str(unknown_approver_family(declared | {"nik_digest": None}, {"hh-1"}))
    # Found in no family and not declared to have none: the family may not have reached verification yet.
    assert "no family" in str(unknown_approver_family(declared | {"no_registered_family": False}, set()))


def test_assignment_area_and_overdue() -> None:
    assert may_take("tksk", "13.71.01", "13.71.01.1001")
    assert may_take("psm", "13.71.01.1001", "13.71.01.1001")
    assert not may_take("psm", "13.71.01.1002", "13.71.01.1001")
    assert not may_take("tksk", "13.71.09", "13.71.01.1001")
    assert not may_take("verifikator", "13.71", "13.71.01.1001")  # not a field role
    now = datetime(2026, 5, 1, tzinfo=UTC)
    assert is_overdue("assigned", now - timedelta(seconds=1), now)
    assert not is_overdue("approved", now - timedelta(days=3), now)
    assert not is_overdue("open", now + timedelta(days=1), now)


def test_objection_rules() -> None:
    assert is_resident("13.71.01.1001", "13.71.01.1001")
    assert not is_resident("13.71.01.1002", "13.71.01.1001")
    at = datetime(2026, 1, 20, 8, tzinfo=UTC)
    assert due_date(at, 14) == datetime(2026, 2, 3, 8, tzinfo=UTC)


def test_ratification_rules() -> None:
    assert missing_attachments([]) == ["minutes", "list"]
    assert missing_attachments(["list"]) == ["minutes"]
    assert missing_attachments(["minutes", "list"]) == []
    assert not may_ratify("kadis", "kadis")
    assert may_ratify("verif-1", "kadis")


def test_evidence_hash_is_canonical() -> None:
    a = evidence_hash({"b": 1, "a": [1, 2]})
    assert a == evidence_hash({"a": [1, 2], "b": 1})
    assert a != evidence_hash({"a": [2, 1], "b": 1})
    assert len(a) == 64


def test_months_before() -> None:
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 12) == datetime(2025, 1, 15, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 13) == datetime(2024, 12, 15, tzinfo=UTC)


QUESTIONNAIRE = {
    "house_ownership": "rent",
    "floor_area_m2": 21.5,
    "floor_type": "earth",
    "wall_type": "bamboo",
    "roof_type": "zinc",
    "drinking_water": "protected_well",
    "sanitation": "shared_toilet",
    "electricity_va": 450,
}


def test_questionnaire_validation() -> None:
    assert Questionnaire.model_validate(QUESTIONNAIRE).assets.car == 0
    for bad in ({"electricity_va": 1000}, {"floor_area_m2": 0}, {"floor_type": "gold"}, {"extra": 1}):
        with pytest.raises(ValidationError):
            Questionnaire.model_validate(QUESTIONNAIRE | bad)


def test_visit_outcome_needs_matching_reason() -> None:
    base = {
        "visited_at": "2026-05-01T09:00:00+07:00",
        "questionnaire": QUESTIONNAIRE,
        "gps": {"lat": -0.9, "lon": 100.4},
        "photos": [{"sha256": "a" * 64, "media_type": "image/jpeg"}],
    }
    VisitIn.model_validate(base | {"outcome": "layak"})
    VisitIn.model_validate(base | {"outcome": "tidak_layak", "reason": "moved"})
    for bad in (
        {"outcome": "tidak_layak"},
        {"outcome": "layak", "reason": "moved"},
        {"outcome": "tidak_layak", "reason": "lazy"},
        {"outcome": "layak", "photos": []},
        {"outcome": "layak", "visited_at": "2026-05-01T09:00:00"},
        {"outcome": "layak", "gps": {"lat": 200, "lon": 0}},
    ):
        with pytest.raises(ValidationError):
            VisitIn.model_validate(base | bad)


def _band(code: str, version: int, hi: int, start: date = date(2026, 1, 1), end: date | None = None) -> ProgrammeBand:
    return ProgrammeBand(code, version, 1, hi, start, end)


def test_thresholds_come_from_the_current_band_of_every_programme() -> None:
    today = date(2026, 6, 1)
    bands = [
        _band("PKH", 1, 4),
        _band("PKH", 2, 5),  # the newer version in force replaces version 1
        _band("PKH", 3, 7, start=date(2026, 7, 1)),  # not yet in force
        _band("SEMBAKO", 1, 3, end=date(2026, 6, 1)),  # ended (effective_to is exclusive)
        _band("SEMBAKO", 2, 4, start=date(2026, 6, 1)),
        _band("KOTA", 1, 10),  # desil 10 has nothing above it
    ]
    assert {k: b.version for k, b in current_bands(bands, today).items()} == {"PKH": 2, "SEMBAKO": 2, "KOTA": 1}
    assert desil_thresholds(bands, today, fallback=[9]) == [4, 5]
    assert desil_thresholds(bands, date(2026, 7, 1), fallback=[9]) == [4, 7]
    # Crossing a threshold t means leaving or entering the band [lo, t].
    assert desil_crossings(5, 6, desil_thresholds(bands, today, fallback=[])) == [5]
    assert desil_crossings(6, 7, desil_thresholds(bands, today, fallback=[])) == []


def test_the_configured_thresholds_apply_only_while_no_programme_is_known() -> None:
    assert desil_thresholds([], date(2026, 6, 1), fallback=[5, 4, 5]) == [4, 5]
    assert desil_thresholds([_band("PKH", 1, 4, start=date(2027, 1, 1))], date(2026, 6, 1), fallback=[6]) == [6]
