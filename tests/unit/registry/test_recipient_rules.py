"""Who may receive a family's assistance (issue 12 item 4): an active, living member of that family with a
valid NIK, aged 17 or married."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.registry.families.rules import RecipientCandidate, recipient_refusal, status_after_change
from shared.events.household import DataStatus

TODAY = date(2026, 12, 6)
ADULT = RecipientCandidate(
    family_id="f1", active=True, deceased=False, nik_issue=None, birth_date=date(1985, 5, 15), marital_status=None
)


def test_living_adult_member_may_be_recipient() -> None:
    assert recipient_refusal(ADULT, family_id="f1", today=TODAY) is None


def test_seventeenth_birthday_makes_an_adult() -> None:
    turns_17 = replace(ADULT, birth_date=date(2009, 12, 6))
    assert recipient_refusal(turns_17, family_id="f1", today=TODAY) is None
    day_before = replace(ADULT, birth_date=date(2009, 12, 7))
    refusal = recipient_refusal(day_before, family_id="f1", today=TODAY)
    assert refusal is not None
    assert refusal[0] == "recipient.minor"


def test_married_minor_may_be_recipient() -> None:
    married = replace(ADULT, birth_date=date(2010, 1, 1), marital_status="kawin")
    assert recipient_refusal(married, family_id="f1", today=TODAY) is None
    assert recipient_refusal(replace(married, birth_date=None), family_id="f1", today=TODAY) is None


@pytest.mark.parametrize(
    ("candidate", "code"),
    [
        (replace(ADULT, family_id="f2"), "recipient.not_in_family"),
        (replace(ADULT, active=False), "recipient.not_in_family"),
        (replace(ADULT, deceased=True), "recipient.deceased"),
        (replace(ADULT, nik_issue="nik.bad_day"), "recipient.invalid_nik"),
        (replace(ADULT, birth_date=date(2015, 1, 1), marital_status="belum_kawin"), "recipient.minor"),
        (replace(ADULT, birth_date=None), "recipient.age_unknown"),
    ],
)
def test_refusals_name_the_rule(candidate: RecipientCandidate, code: str) -> None:
    refusal = recipient_refusal(candidate, family_id="f1", today=TODAY)
    assert refusal is not None
    assert refusal[0] == code


def test_a_dead_recipient_does_not_put_the_family_in_doubt() -> None:
    """recipient_deceased holds payments; the family stays active (and listed) while a new recipient is found."""
    decision = status_after_change(
        data_status=DataStatus.ACTIVE,
        reason=None,
        existence_status="present",
        open_flags=["recipient_deceased"],
        confirmed_flags=["deceased_dukcapil"],
        living_members=2,
        any_members=True,
    )
    assert (decision.data_status, decision.reason) == (DataStatus.ACTIVE, None)
    doubted = status_after_change(
        data_status=DataStatus.ACTIVE,
        reason=None,
        existence_status="present",
        open_flags=["recipient_deceased", "invalid_nik"],
        confirmed_flags=[],
        living_members=2,
        any_members=True,
    )
    assert doubted.data_status == DataStatus.NEEDS_VERIFICATION
