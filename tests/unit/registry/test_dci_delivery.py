"""Rules of DCI callback delivery: backoff, which addresses and URIs may be called, notify ids and event types."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.registry.dci.delivery import CallbackRefused, address_allowed, backoff_delay, check_uri
from services.registry.dci.notify import event_types_of, notify_message_id
from shared.events.envelope import EventEnvelope


def test_backoff_doubles_from_the_first_wait_up_to_the_cap() -> None:
    waits = [backoff_delay(n, first_s=5, cap_s=60) for n in range(1, 7)]
    assert waits == [5, 10, 20, 40, 60, 60]


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.0.0.7", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
    ],
)
def test_only_public_unicast_addresses(address: str, ok: bool) -> None:
    assert address_allowed(address, frozenset()) is ok


def test_an_allowed_private_address_is_the_only_exception() -> None:
    assert address_allowed("127.0.0.1", frozenset({"127.0.0.1"}))
    assert not address_allowed("127.0.0.2", frozenset({"127.0.0.1"}))


def test_a_uri_must_be_registered_and_http() -> None:
    assert check_uri("https://bank.example.id/cb", ["https://bank.example.id/cb"]) == ("bank.example.id", 443)
    assert check_uri("http://bank.example.id:8080/cb", ["http://bank.example.id:8080/cb"]) == ("bank.example.id", 8080)
    with pytest.raises(CallbackRefused, match="not a callback URI"):
        check_uri("https://bank.example.id/other", ["https://bank.example.id/cb"])
    with pytest.raises(CallbackRefused, match="http"):
        check_uri("file:///etc/passwd", ["file:///etc/passwd"])


def _event(event_type: str, **data: object) -> EventEnvelope:
    now = datetime.now(UTC)
    return EventEnvelope(
        event_type=event_type,
        source="registry",
        subject="f1",
        aggregate_version=1,
        occurred_at=now,
        recorded_at=now,
        data=data,
    )


def test_deregister_is_a_member_leaving_or_dying_or_the_family_becoming_inactive() -> None:
    assert event_types_of(_event("household.updated")) == {"REGISTER"}
    assert event_types_of(_event("household.member_deceased")) == {"REGISTER", "DEREGISTER"}
    assert event_types_of(_event("household.member_removed")) == {"REGISTER", "DEREGISTER"}
    assert event_types_of(_event("household.status_changed", data_status="inactive")) == {"REGISTER", "DEREGISTER"}


def test_notify_message_id_is_stable_per_event_and_subscription() -> None:
    event = uuid.uuid4()
    assert notify_message_id(event, "a") == notify_message_id(event, "a")
    assert notify_message_id(event, "a") != notify_message_id(event, "b")
    assert notify_message_id(event, "a") != notify_message_id(uuid.uuid4(), "a")
