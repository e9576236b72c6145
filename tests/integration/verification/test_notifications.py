"""Notifications: one per event and recipient under Kafka redelivery, a provider that fails then recovers (nothing
lost, nothing sent twice), dead letters, opt-out, quiet hours, SMTP to a local server, the log in embedded mode."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from services.verification.app import create_app
from services.verification.notifications.models import notification_delivery
from services.verification.notifications.providers import Message, ProviderError, SmtpProvider, WebhookProvider, sign
from services.verification.notifications.service import build_providers, send_due
from services.verification.settings import VerificationSettings, settings_of
from shared.bus.base import IncomingRecord
from shared.events.envelope import EventEnvelope, utcnow
from shared.events.payment import PaymentEventType, PaymentLineStatus
from shared.events.topics import DISBURSEMENT_PAYMENT, REGISTRY_HOUSEHOLD
from shared.runtime.service import ServiceRuntime
from tests.integration.verification.helpers import KEL_A, KEL_B, Api, household_envelope, seed_family
from tests.support.api import running
from tests.support.infra import Infra
from tests.support.waiting import wait_for

pytestmark = pytest.mark.infra


def next_noon_wib(after: datetime) -> datetime:
    """The first 12:00 in Padang (05:00 UTC) after `after`."""
    noon = after.replace(hour=5, minute=0, second=0, microsecond=0)
    return noon if noon > after else noon + timedelta(days=1)


# Deliveries fall due at the wall clock, so the clocks the tests send at lie ahead of it, never at a fixed date.
NOON_WIB = next_noon_wib(utcnow())
NIGHT_WIB = NOON_WIB + timedelta(hours=11)  # 23:00 in Padang


class Recorder:
    """A provider that keeps what it was given, failing the first `fail` calls."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.calls = 0
        self.sent: list[Message] = []

    async def send(self, message: Message) -> None:
        self.calls += 1
        if self.calls <= self.fail:
            raise ProviderError("gateway down")
        self.sent.append(message)


def payment(household_id: str, status: str, *, line_id: str, reason: str | None = None) -> EventEnvelope:
    """A payment.line_status_changed envelope as disbursement emits it."""
    now = utcnow()
    data = PaymentLineStatus.model_validate(
        {
            "household_id": household_id,
            "programme_code": "PKH",
            "tahap_id": "a3c1e0d2-7f4b-4c1e-9d3a-2b6f8e1c0a55",
            "tahap_label": "2026-IV",
            "line_id": line_id,
            "status": status,
            "failure_reason": reason,
        }
    )
    return EventEnvelope(
        event_type=PaymentEventType.LINE_STATUS_CHANGED,
        source="disbursement",
        subject=household_id,
        aggregate_version=1,
        occurred_at=now,
        recorded_at=now,
        data=data.model_dump(mode="json"),
    )


async def deliveries(rt: ServiceRuntime, *household_ids: str) -> list[dict[str, Any]]:
    t = notification_delivery
    async with rt.sessions() as session:
        rows = await session.execute(select(t).where(t.c.recipient_id.in_(household_ids)).order_by(t.c.id))
        return [dict(r._mapping) for r in rows]


async def deliver(rt: ServiceRuntime, *envelopes: EventEnvelope) -> None:
    """Apply events through the consumer's own dispatch (inbox included), as the bus would."""
    consumer = rt.make_consumer()
    assert consumer is not None
    for env in envelopes:
        topic = REGISTRY_HOUSEHOLD if env.source == "registry" else DISBURSEMENT_PAYMENT
        dead = await consumer.process([IncomingRecord(topic, env.to_bytes(), env.subject.encode())])
        assert dead == []


async def family_with_contact(api: Api, **contact: Any) -> str:
    hid = await seed_family(api.runtime)
    body = {"phone": "081234567890", **contact}
    await api.call("PUT", f"/notifications/contacts/{hid}", api.as_("operator_kelurahan", KEL_A), body)
    return hid


async def test_redelivered_payment_events_give_one_notification_per_recipient(live: Api, infra: Infra) -> None:
    rt = live.runtime
    hid = await family_with_contact(live, email="warga@example.id")
    quiet = await seed_family(rt)  # no contact: nothing is queued for it
    line = f"line-{uuid.uuid4().hex[:6]}"
    scheduled = payment(hid, "at_payer", line_id=line)
    failed = payment(hid, "failed", line_id=line, reason="account_problem")
    # The same status announced again under a new event id (a re-emitted list) is not news either.
    again = payment(hid, "at_payer", line_id=line)
    sequence = [
        scheduled,
        failed,
        again,
        payment(quiet, "at_payer", line_id="line-q"),
        payment(hid, "paid", line_id=line),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for _ in range(2):  # everything twice, as a relay re-send after a crash would deliver it
            for env in sequence:
                await producer.send_and_wait(DISBURSEMENT_PAYMENT, env.to_bytes(), key=env.subject.encode())
    finally:
        await producer.stop()

    async def inbox_count() -> int:
        inbox = rt.definition.messaging.inbox
        async with rt.sessions() as session:
            ids = [str(e.event_id) for e in sequence]
            stmt = select(func.count()).select_from(inbox).where(inbox.c.event_id.in_(ids))
            return int((await session.execute(stmt)).scalar_one())

    await wait_for(inbox_count, lambda n: n == len(sequence), timeout=60)
    rows = await deliveries(rt, hid, quiet)
    assert sorted((r["template"], r["channel"]) for r in rows) == [
        ("payment_failed", "email"),
        ("payment_failed", "sms"),
        ("payment_scheduled", "email"),
        ("payment_scheduled", "sms"),
    ]
    failed_sms = next(r for r in rows if r["template"] == "payment_failed" and r["channel"] == "sms")
    assert "masalah pada rekening" in failed_sms["body"]
    assert "PKH" in failed_sms["body"]
    assert "2026-IV" in failed_sms["body"]

    recorder = Recorder()
    await send_due(rt.sessions, settings=settings_of(rt), providers={"sms": recorder, "email": recorder}, now=NOON_WIB)
    await send_due(rt.sessions, settings=settings_of(rt), providers={"sms": recorder, "email": recorder}, now=NOON_WIB)
    rows = await deliveries(rt, hid, quiet)
    # Sent once each, whether by this call or by the app's own scheduler (log provider) that runs meanwhile.
    assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 1)] * 4
    assert len({m.key for m in recorder.sent}) == len(recorder.sent)


async def test_a_failing_provider_recovers_nothing_lost_nothing_twice_then_dead_letters(api: Api) -> None:
    rt = api.runtime
    settings = settings_of(rt).model_copy(update={"notify_max_attempts": 4})
    families = [await family_with_contact(api) for _ in range(3)]
    await deliver(rt, *(payment(h, "at_payer", line_id=f"line-{h}") for h in families))

    received: list[dict[str, Any]] = []
    secret = "rahasia-uji"
    state = {"down": 2}

    def gateway(request: httpx.Request) -> httpx.Response:
        # Checks the contract: the signature over "<timestamp>.<body>".
        ts = request.headers["X-Tepat-Timestamp"]
        assert request.headers["X-Tepat-Signature"] == sign(secret, ts, request.content)
        if state["down"] > 0:
            return httpx.Response(503)
        body = json.loads(request.content)
        assert body["id"] == request.headers["Idempotency-Key"]
        received.append(body)
        return httpx.Response(202)

    async with httpx.AsyncClient(transport=httpx.MockTransport(gateway)) as client:
        webhook = WebhookProvider("http://sms-gateway.test/send", secret, client=client)
        now = NOON_WIB
        for _ in range(2):  # the gateway is down for two rounds
            counts = await send_due(rt.sessions, settings=settings, providers={"sms": webhook}, now=now)
            assert counts["retried"] == 3
            state["down"] -= 1
            now += timedelta(hours=2)
        # Not due yet: the backoff holds them back.
        assert (
            await send_due(rt.sessions, settings=settings, providers={"sms": webhook}, now=now - timedelta(hours=2))
        )["sent"] == 0
        counts = await send_due(rt.sessions, settings=settings, providers={"sms": webhook}, now=now)
        assert counts["sent"] == 3
        assert (
            await send_due(rt.sessions, settings=settings, providers={"sms": webhook}, now=now + timedelta(days=1))
        )["sent"] == 0
    rows = await deliveries(rt, *families)
    assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 3)] * 3
    assert sorted(b["to"] for b in received) == ["081234567890"] * 3
    assert len({b["id"] for b in received}) == 3  # every family exactly once
    assert all("1371" not in b["body"] for b in received)

    # A gateway that never answers: after notify_max_attempts the notification is dead, and can be retried.
    doomed = await family_with_contact(api)
    await deliver(rt, payment(doomed, "failed", line_id=f"line-{doomed}", reason="not_found"))
    down = Recorder(fail=100)
    for i in range(4):
        await send_due(rt.sessions, settings=settings, providers={"sms": down}, now=NOON_WIB + timedelta(days=i + 2))
    [dead] = await deliveries(rt, doomed)
    assert (dead["status"], dead["attempts"], dead["last_error"]) == ("dead", 4, "gateway down")
    ops = api.as_("system", subject="ops")
    page = await api.call("GET", f"/notifications/deliveries?status=dead&recipient_id={doomed}", ops)
    assert [i["id"] for i in page["items"]] == [dead["id"]]
    assert (await api.call("POST", f"/notifications/deliveries/retry-dead?delivery_id={dead['id']}", ops))[
        "requeued"
    ] == 1
    up = Recorder()
    # The requeue makes it due at the wall clock; send at the next noon in Padang, outside the quiet hours whatever
    # the hour the suite runs at.
    await send_due(rt.sessions, settings=settings, providers={"sms": up}, now=next_noon_wib(utcnow()))
    assert [m.template for m in up.sent] == ["payment_failed"]


async def test_opt_out_is_honoured_before_and_after_queueing(api: Api) -> None:
    rt = api.runtime
    operator = api.as_("operator_kelurahan", KEL_A)
    out_before = await family_with_contact(api, opted_out=True)
    out_after = await family_with_contact(api)
    await deliver(rt, payment(out_before, "at_payer", line_id="l-1"), payment(out_after, "at_payer", line_id="l-2"))
    assert await deliveries(rt, out_before) == []
    assert len(await deliveries(rt, out_after)) == 1
    await api.call(
        "PUT", f"/notifications/contacts/{out_after}", operator, {"phone": "081234567890", "opted_out": True}
    )
    recorder = Recorder()
    counts = await send_due(rt.sessions, settings=settings_of(rt), providers={"sms": recorder}, now=NOON_WIB)
    assert (counts["skipped"], recorder.sent) == (1, [])
    [row] = await deliveries(rt, out_after)
    assert (row["status"], row["last_error"]) == ("skipped", "opted out")


async def test_quiet_hours_hold_messages_until_morning(api: Api) -> None:
    rt = api.runtime
    hid = await family_with_contact(api)
    await deliver(rt, payment(hid, "at_payer", line_id=f"l-{hid}"))
    recorder = Recorder()
    counts = await send_due(rt.sessions, settings=settings_of(rt), providers={"sms": recorder}, now=NIGHT_WIB)
    assert (counts["quiet"], recorder.sent) == (1, [])
    counts = await send_due(rt.sessions, settings=settings_of(rt), providers={"sms": recorder}, now=NOON_WIB)
    assert [m.template for m in recorder.sent] == ["payment_scheduled"]


async def test_correction_flag_complaints_and_assigned_visits_are_announced(api: Api) -> None:
    rt = api.runtime
    hid = await family_with_contact(api)
    flagged = household_envelope(hid, 2, flags=["member_needs_correction"])
    await deliver(rt, flagged, household_envelope(hid, 3, flags=["member_needs_correction", "car_owner"]))
    # A complainant who left a mobile number hears that the complaint was received and, once closed, handled
    # (contact keyed by the complaint's reference); an anonymous one is never written to.
    boss = await api.approver()
    filed = {"channel": "counter", "category": "exclusion", "kelurahan_code": KEL_A, "description": "Tidak terdaftar."}
    named = await api.call(
        "POST", "/complaints", boss, {**filed, "contact_name": "Pengadu", "contact_phone": "081298765432"}, expect=201
    )
    anonymous = await api.call("POST", "/complaints", boss, {**filed, "anonymous": True}, expect=201)
    ref = named["reference"]
    for c in (named, anonymous):
        await api.call("POST", f"/complaints/{c['id']}/reject", boss, {"reason": "unfounded"})
    # A ground check assigned to a TKSK: the family hears of the visit at the next run of the sender job.
    await api.officer("tksk-n", "tksk", "13.71.01")
    checks = await api.call("GET", f"/ground-checks?household_id={hid}", boss)
    cid = checks["items"][0]["id"]
    if checks["items"][0]["status"] != "assigned":
        await api.call("POST", f"/ground-checks/{cid}/assign", boss, {"officer_subject": "tksk-n"})
    from services.verification.jobs import send_notifications
    from shared.runtime.scheduler import JobContext

    ctx = JobContext(sessions=rt.sessions, outbox=rt.outbox, settings=rt.settings, now=NOON_WIB)
    first = await send_notifications(ctx)
    assert first["visits_announced"] == 1
    assert (await send_notifications(ctx))["visits_announced"] == 0
    rows = await deliveries(rt, hid, ref, anonymous["reference"])
    assert sorted((r["recipient_id"] == ref, r["template"], r["status"]) for r in rows) == [
        (False, "data_correction", "sent"),
        (False, "visit_planned", "sent"),
        (True, "complaint_received", "sent"),
        (True, "complaint_resolved", "sent"),
    ]
    visit = next(r for r in rows if r["template"] == "visit_planned")
    assert "TKSK" in visit["body"]


async def test_contact_api_checks_scope_and_input(api: Api) -> None:
    hid = await seed_family(api.runtime)
    other = await seed_family(api.runtime, kelurahan=KEL_B)
    operator = api.as_("operator_kelurahan", KEL_A)
    problem = await api.call("PUT", f"/notifications/contacts/{hid}", operator, {"phone": "12345"}, expect=422)
    assert "phone" in json.dumps(problem)
    await api.call("PUT", f"/notifications/contacts/{other}", operator, {"phone": "081234567890"}, expect=403)
    await api.call("PUT", "/notifications/contacts/hh-unknown", operator, {"phone": "081234567890"}, expect=404)
    saved = await api.call("PUT", f"/notifications/contacts/{hid}", operator, {"phone": "081234567890"})
    assert (saved["phone"], saved["opted_out"]) == ("*********890", False)
    assert (await api.call("GET", f"/notifications/contacts/{hid}", operator))["phone"] == "*********890"
    await api.call("GET", "/notifications/deliveries", operator, expect=403)
    await api.call("PUT", f"/notifications/contacts/{hid}", api.as_("psm", KEL_A), {"phone": "0812345678"}, expect=403)


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd calls it by this name
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks its own server by connecting to it)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


async def test_smtp_provider_sends_to_a_real_smtp_server(api: Api, smtp_server: tuple[_Inbox, int]) -> None:
    inbox, port = smtp_server
    rt = api.runtime
    hid = await family_with_contact(api, phone=None, email="warga@example.id")
    await deliver(rt, payment(hid, "failed", line_id=f"l-{hid}", reason="deceased_without_heir"))
    smtp = SmtpProvider("127.0.0.1", port, "Dinsos <noreply@dinsos.test>")
    counts = await send_due(rt.sessions, settings=settings_of(rt), providers={"email": smtp}, now=NOON_WIB)
    assert counts["sent"] == 1
    [raw] = inbox.messages
    mail = message_from_bytes(raw)
    assert mail["To"] == "warga@example.id"
    assert mail["Subject"] == "Bantuan PKH tahap 2026-IV belum tersalurkan"
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert "ahli waris" in payload.decode()
    # A server that refuses: the delivery waits for another attempt.
    with pytest.raises(ProviderError):
        await SmtpProvider("127.0.0.1", 1, "x@y.z").send(Message("k", "email", "a@b.c", "t", "s", "b"))


async def test_embedded_mode_log_provider_shows_the_notifications(
    sqlite_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings = sqlite_settings(VerificationSettings, auto_migrate=True, run_workers=False)
    app = create_app(settings)
    async with running(app) as client:
        api = Api(client, settings.data_dir, app)
        rt = api.runtime
        hid = await family_with_contact(api)
        await deliver(rt, payment(hid, "at_payer", line_id="l-1"), payment(hid, "at_payer", line_id="l-1"))
        with caplog.at_level(logging.INFO, logger="tepat.notifications"):
            counts = await send_due(rt.sessions, settings=settings, providers=build_providers(settings), now=NOON_WIB)
            await asyncio.sleep(0)
    assert counts["sent"] == 1
    [line] = [r.getMessage() for r in caplog.records if r.name == "tepat.notifications"]
    assert "payment_scheduled via sms to *********890" in line
    assert "sudah tersedia di bank penyalur (kartu KKS)" in line
    assert "081234567890" not in line
