"""Rules of complaints (pengaduan): the state machine, SLA by category, what each category may start, masking."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.verification.complaints.rules import (
    CATEGORY_ACTIONS,
    COMPLAINT_MACHINE,
    ComplaintAction,
    action_refusal,
    due_date,
    lacks_payment_reference,
    mask_phone,
    new_reference,
    notifiable,
    sla_status,
)
from services.verification.complaints.schemas import ComplaintIn, WebhookMessageIn
from services.verification.settings import DEFAULT_COMPLAINT_SLA_DAYS, VerificationSettings
from shared.events.complaint import ComplaintCategory
from shared.statemachine import IllegalTransition

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("path", "final"),
    [
        (["assign", "act", "resolve"], "resolved"),
        (["act", "assign", "reject"], "rejected"),
        (["refer"], "referred"),
        (["reject"], "rejected"),
        (["assign", "assign", "refer"], "referred"),
    ],
)
def test_complaint_life_cycles(path: list[str], final: str) -> None:
    state = "received"
    for action in path:
        state = COMPLAINT_MACHINE.next(state, action)
    assert state == final
    assert COMPLAINT_MACHINE.allowed(state) == []


def test_a_received_complaint_is_worked_on_before_it_is_resolved() -> None:
    with pytest.raises(IllegalTransition):
        COMPLAINT_MACHINE.next("received", "resolve")
    assert COMPLAINT_MACHINE.allowed("in_progress") == ["act", "assign", "refer", "reject", "resolve"]


def test_sla_by_category_and_configured_days() -> None:
    assert set(DEFAULT_COMPLAINT_SLA_DAYS) == {c.value for c in ComplaintCategory}
    defaults = VerificationSettings().complaint_sla_days
    assert due_date(T0, "payment", defaults) == T0 + timedelta(days=5)
    assert due_date(T0, "exclusion", defaults) == T0 + timedelta(days=14)
    # Naming one category keeps the others' defaults.
    configured = VerificationSettings(complaint_sla_days={"payment": 3}).complaint_sla_days
    assert due_date(T0, "payment", configured) == T0 + timedelta(days=3)
    assert due_date(T0, "exclusion", configured) == T0 + timedelta(days=14)
    with pytest.raises(ValidationError, match="unknown complaint categories"):
        VerificationSettings(complaint_sla_days={"payments": 2})
    with pytest.raises(ValidationError, match="between 1 and 365"):
        VerificationSettings(complaint_sla_days={"payment": 0})


def test_sla_status() -> None:
    due = T0 + timedelta(days=5)
    assert sla_status("received", due, T0) == "on_time"
    assert sla_status("in_progress", due, due - timedelta(days=1)) == "due_soon"
    assert sla_status("in_progress", due, due + timedelta(seconds=1)) == "overdue"
    assert sla_status("resolved", due, due + timedelta(days=9)) == "closed"


def test_what_each_category_may_start() -> None:
    gc, dc, pi = ComplaintAction.GROUND_CHECK, ComplaintAction.DATA_CORRECTION, ComplaintAction.PAYER_INQUIRY
    assert action_refusal("inclusion", gc, household_id="hh-1", payment_line_id=None) is None
    assert action_refusal("inclusion", dc, household_id="hh-1", payment_line_id=None) == (
        "a complaint of category inclusion cannot start a data_correction"
    )
    assert action_refusal("exclusion", gc, household_id=None, payment_line_id=None) == (
        "a ground_check needs the complaint's household_id"
    )
    assert action_refusal("payment", pi, household_id="hh-1", payment_line_id=None) == (
        "a payer_inquiry needs the complaint's payment_line_id"
    )
    assert action_refusal("payment", pi, household_id=None, payment_line_id=1) is None
    assert CATEGORY_ACTIONS[ComplaintCategory.OFFICER_CONDUCT] == frozenset()


def test_a_payment_complaint_names_the_line_or_the_tahap() -> None:
    assert lacks_payment_reference("payment", None, None) is True
    assert lacks_payment_reference("payment", 7, None) is False
    assert lacks_payment_reference("payment", None, "SEMBAKO-2026-II") is False
    assert lacks_payment_reference("other", None, None) is False


def test_reference_numbers_are_short_random_and_readable() -> None:
    refs = {new_reference(T0) for _ in range(200)}
    assert len(refs) == 200
    assert all(re.fullmatch(r"ADU-2612-[0-9A-HJKMNP-TV-Z]{7}", r) for r in refs)


def test_masking_and_notifiable() -> None:
    assert mask_phone("+6281234567890") == "**********7890"
    assert mask_phone("1234") == "****"
    assert mask_phone(None) is None
    assert notifiable(False, "+628123456") is True
    assert notifiable(True, None) is False
    assert notifiable(False, None) is False


def test_anonymous_complaints_carry_no_contact_and_the_webhook_takes_messages_only() -> None:
    base = {"channel": "counter", "category": "other", "description": "abc", "kelurahan_code": "13.71.01.1001"}
    with pytest.raises(ValidationError, match="anonymous"):
        ComplaintIn.model_validate(base | {"anonymous": True, "contact_phone": "+628123456789"})
    with pytest.raises(ValidationError, match="household_id"):
        ComplaintIn.model_validate(base | {"member_id": "m-1"})
    message = {"channel": "sms", "message_id": "m1", "sender": "+628123456789", "text": "abc"}
    assert WebhookMessageIn.model_validate(message | {"kelurahan_code": "13.71.01.1001"}).category == "other"
    with pytest.raises(ValidationError, match="sms or whatsapp"):
        WebhookMessageIn.model_validate(message | {"kelurahan_code": "13.71.01.1001", "channel": "lapor"})
