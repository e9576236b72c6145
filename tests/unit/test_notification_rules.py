"""Notification rules: templates in Bahasa Indonesia without a NIK, quiet hours, backoff, which status is news."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.verification.notifications.providers import sign
from services.verification.notifications.rules import (
    TEMPLATES,
    NikInMessage,
    NotificationTemplate,
    failure_values,
    has_nik_like,
    in_quiet_hours,
    payment_template,
    render,
    retry_delay,
)

VALUES = {
    "programme": "PKH",
    "tahap": "2026-IV",
    "payer": "Kantor Pos",
    "officer": "TKSK",
    "due": "20-12-2026",
    "reference": "ADU-2026-000123",
    "category": "tidak_terdaftar",
    **failure_values("not_found"),
}


@pytest.mark.parametrize("template", list(NotificationTemplate))
def test_every_template_renders_without_leftover_placeholders(template: NotificationTemplate) -> None:
    out = render(template, VALUES)
    assert "$" not in out.subject + out.body
    assert out.body.startswith("Dinas Sosial Kota Padang:")
    assert len(out.body) <= 320  # two SMS at most


def test_every_template_is_defined() -> None:
    assert set(TEMPLATES) == set(NotificationTemplate)


def test_a_nik_in_a_value_is_never_rendered() -> None:
    with pytest.raises(NikInMessage):
        render(NotificationTemplate.COMPLAINT_RECEIVED, {**VALUES, "reference": "1371010101900001"})
    with pytest.raises(NikInMessage):
        render(NotificationTemplate.COMPLAINT_RECEIVED, {**VALUES, "category": "1371 0101 0190 0001"})


def test_nik_like_detection() -> None:
    assert has_nik_like("NIK 1371010101900001 di sini")
    assert has_nik_like("13.71.01.01.01.90.00.01.x")  # 16 digits with dots between
    assert not has_nik_like("wilayah 13.71.01.1001, tahap 2026-IV")
    assert not has_nik_like("pengaduan ADU-2026-000123")


def test_a_missing_value_is_an_error() -> None:
    with pytest.raises(KeyError):
        render(NotificationTemplate.PAYMENT_SCHEDULED, {"programme": "PKH"})


def test_failed_payment_says_why_and_what_to_do() -> None:
    out = render(NotificationTemplate.PAYMENT_FAILED, {**VALUES, **failure_values("deceased_without_heir")})
    assert "ahli waris" in out.body
    assert "akta kematian" in out.body
    assert failure_values("something_new")["reason"] == "ada kendala penyaluran"


def test_payment_statuses_that_are_news() -> None:
    assert payment_template("at_payer") == NotificationTemplate.PAYMENT_SCHEDULED
    assert payment_template("failed") == NotificationTemplate.PAYMENT_FAILED
    assert payment_template("paid") is None
    assert payment_template("planned") is None


@pytest.mark.parametrize(
    ("utc_hour", "quiet"),
    [(13, False), (14, True), (20, True), (23, True), (0, False)],
)
def test_quiet_hours_are_padang_hours_across_midnight(utc_hour: int, quiet: bool) -> None:
    # 21:00-07:00 WIB is 14:00-24:00 UTC.
    now = datetime(2026, 12, 6, utc_hour, 30, tzinfo=UTC)
    assert in_quiet_hours(now, 21, 7) is quiet


def test_quiet_hours_within_a_day_and_none() -> None:
    noon_wib = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)
    assert in_quiet_hours(noon_wib, 11, 13)
    assert not in_quiet_hours(noon_wib, 13, 11)
    assert not in_quiet_hours(noon_wib, 0, 0)
    assert in_quiet_hours(noon_wib.replace(tzinfo=None), 12, 13)  # naive (SQLite) is UTC


def test_retry_delay_doubles_then_caps() -> None:
    delays = [retry_delay(n, first_s=60, cap_s=600) for n in range(1, 6)]
    assert delays == [timedelta(seconds=s) for s in (60, 120, 240, 480, 600)]


def test_webhook_signature_is_hmac_sha256_of_timestamp_and_body() -> None:
    # Known answer, so a receiver written from the README can check its own implementation.
    assert sign("rahasia", "1700000000", b'{"id":"tepat-1"}') == (
        "sha256=" + __import__("hmac").new(b"rahasia", b'1700000000.{"id":"tepat-1"}', "sha256").hexdigest()
    )
    assert sign("rahasia", "1700000000", b"{}") != sign("lain", "1700000000", b"{}")
