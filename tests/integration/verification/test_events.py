"""Event-driven parts: the read model (stale versions, rebuild by replay) and auto-created ground checks fed
through the real Kafka broker, redelivered on purpose; outcome events published PII-free."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from services.verification.groundchecks.models import ground_check
from services.verification.handlers import apply_household_event, household_handlers
from services.verification.households.models import household, household_flag
from services.verification.households.repository import clear_read_model
from services.verification.settings import VerificationSettings
from shared.events.envelope import EventEnvelope, utcnow
from shared.events.payment import PaymentEventType, PaymentLineStatus
from shared.events.programme import ProgrammeEventType, ProgrammeRulePublished
from shared.events.topics import DISBURSEMENT_PAYMENT, REGISTRY_HOUSEHOLD, VERIFICATION_OUTCOME
from shared.runtime.service import ServiceRuntime
from tests.integration.verification.helpers import (
    KEC_A,
    KEL_A,
    KEL_B,
    Api,
    assert_pii_free,
    household_envelope,
    visit_body,
)
from tests.support.infra import Infra
from tests.support.kafka import read_all
from tests.support.waiting import wait_for

pytestmark = pytest.mark.infra


async def _snapshot(rt: ServiceRuntime) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    h = household
    cols = [c for c in h.c if c.name != "updated_at"]
    async with rt.sessions() as session:
        families = (await session.execute(select(*cols).order_by(h.c.household_id))).all()
        flags = (await session.execute(select(household_flag).order_by(*household_flag.c))).all()
    return [tuple(r) for r in families], [tuple(r) for r in flags]


async def _checks(rt: ServiceRuntime) -> list[tuple[str, str]]:
    async with rt.sessions() as session:
        rows = await session.execute(
            select(ground_check.c.household_id, ground_check.c.reason).order_by(ground_check.c.id)
        )
        return [(h, r) for h, r in rows]


async def test_read_model_rebuilds_by_replay_to_the_same_state(api: Api) -> None:
    rt = api.runtime
    settings = rt.settings
    assert isinstance(settings, VerificationSettings)
    envelopes = [
        household_envelope("hh-r1", 1, desil=3),
        household_envelope("hh-r1", 3, desil=6, flags=["duplicate_nik"]),
        household_envelope("hh-r1", 2, desil=9),  # stale: arrives after v3, ignored
        household_envelope("hh-r2", 1, kelurahan=KEL_B, flags=["deceased_dukcapil", "car_owner"]),
        household_envelope("hh-r2", 2, kelurahan=KEL_B, flags=["car_owner"]),
        household_envelope("hh-r3", 1, desil=None),
    ]

    async def apply_all() -> None:
        for env in envelopes:
            async with rt.sessions() as session, session.begin():
                await apply_household_event(session, env, settings)

    await apply_all()
    first = await _snapshot(rt)
    families = {r[0]: r for r in first[0]}
    assert (families["hh-r1"][5], families["hh-r1"][8]) == (6, 3)  # desil 6 at version 3: the stale v2 lost
    assert first[1] == [("hh-r1", "duplicate_nik"), ("hh-r2", "car_owner")]
    checks = await _checks(rt)
    assert sorted(checks) == [
        ("hh-r1", "desil_crossing"),
        ("hh-r1", "flag_duplicate_nik"),
        ("hh-r2", "flag_deceased_dukcapil"),
    ]

    async with rt.sessions() as session, session.begin():
        await clear_read_model(session)
    assert await _snapshot(rt) == ([], [])
    await apply_all()
    assert await _snapshot(rt) == first
    assert await _checks(rt) == checks  # the open checks absorbed the replayed triggers


def _payment(household_id: str, reason: str | None, status: str = "failed") -> EventEnvelope:
    now = utcnow()
    data = PaymentLineStatus.model_validate(
        {
            "household_id": household_id,
            "programme_code": "PKH",
            "tahap_id": "2026-IV",
            "line_id": f"line-{uuid.uuid4().hex[:6]}",
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


async def test_redelivered_triggers_open_one_check_and_outcomes_reach_kafka(live: Api, infra: Infra) -> None:
    rt = live.runtime
    boss = await live.approver("verif-1")
    await live.officer("tksk-a", "tksk", KEC_A)
    hid, other = f"hh-{uuid.uuid4().hex[:8]}", f"hh-{uuid.uuid4().hex[:8]}"
    sequence = [
        household_envelope(hid, 1, desil=4),
        household_envelope(hid, 2, desil=5, flags=["deceased_dukcapil", "car_owner"]),  # crosses 4, new flag
        household_envelope(hid, 3, desil=5, flags=["deceased_dukcapil"]),  # nothing new
        household_envelope(other, 1, desil=2),
        _payment(other, "not_found"),
        _payment(other, "deceased_without_heir"),  # same (family, reason) while the first is open
        _payment(other, "not_collected"),  # not a reason to visit
        _payment(other, None, status="paid"),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for _ in range(2):  # everything twice, as a relay re-send after a crash would deliver it
            for env in sequence:
                topic = DISBURSEMENT_PAYMENT if env.source == "disbursement" else REGISTRY_HOUSEHOLD
                await producer.send_and_wait(topic, env.to_bytes(), key=env.subject.encode())
    finally:
        await producer.stop()

    async def inbox_count() -> int:
        inbox = rt.definition.messaging.inbox
        async with rt.sessions() as session:
            ids = [str(e.event_id) for e in sequence]
            stmt = select(func.count()).select_from(inbox).where(inbox.c.event_id.in_(ids))
            return int((await session.execute(stmt)).scalar_one())

    await wait_for(inbox_count, lambda n: n == len(sequence), timeout=60)
    mine = [c for c in await _checks(rt) if c[0] in {hid, other}]
    # The ids are random, so compare sorted on both sides.
    assert sorted(mine) == sorted([(hid, "desil_crossing"), (hid, "flag_deceased_dukcapil"), (other, "payment_failed")])
    page = await live.call("GET", f"/ground-checks?household_id={other}", boss)
    assert (page["items"][0]["assigned_to"], page["items"][0]["origin_ref"].startswith("payment:")) == ("tksk-a", True)

    # Approve one: verification.completed goes outbox → relay → Kafka, PII-free.
    tksk = live.as_("tksk", KEC_A, subject="tksk-a")
    cid = page["items"][0]["id"]
    await live.call(
        "POST", f"/ground-checks/{cid}/visit", tksk, visit_body("tidak_layak", "not_found", photo=await live.photo())
    )
    await live.call("POST", f"/ground-checks/{cid}/approve", boss)

    async def published() -> list[dict[str, Any]]:
        records = await read_all(infra.kafka_bootstrap, VERIFICATION_OUTCOME)
        out = []
        for r in records:
            env = json.loads(r.value)  # type: ignore[attr-defined]
            if env["subject"] == other:
                out.append(env)
        return out

    events = await wait_for(published, lambda e: len(e) == 1, timeout=30)
    assert events[0]["event_type"] == "verification.completed"
    assert events[0]["source"] == "verification"
    assert (events[0]["data"]["outcome"], events[0]["data"]["reason"]) == ("tidak_layak", "not_found")
    assert_pii_free(events[0]["data"])
    assert KEL_A  # (the family lives in kelurahan A; wilayah codes are allowed in payloads)


async def test_payment_failure_before_the_family_is_known_waits_for_it(live: Api, infra: Infra) -> None:
    rt = live.runtime
    await live.officer("tksk-a", "tksk", KEC_A)
    hid = f"hh-{uuid.uuid4().hex[:8]}"
    failure, family = _payment(hid, "not_found"), household_envelope(hid, 1, desil=3)
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, enable_idempotence=True, acks="all")
    await producer.start()

    async def in_inbox(env: Any) -> bool:
        inbox = rt.definition.messaging.inbox
        async with rt.sessions() as session:
            stmt = select(func.count()).select_from(inbox).where(inbox.c.event_id == str(env.event_id))
            return int((await session.execute(stmt)).scalar_one()) == 1

    try:
        # The payment topic is not ordered against the household topic: here the failure clearly comes first.
        await producer.send_and_wait(DISBURSEMENT_PAYMENT, failure.to_bytes(), key=hid.encode())
        await wait_for(lambda: in_inbox(failure), lambda ok: ok, timeout=30)
        assert [c for c in await _checks(rt) if c[0] == hid] == []  # parked, not lost, not dead-lettered
        dead = rt.definition.messaging.dead_letter
        async with rt.sessions() as session:
            assert (await session.execute(select(func.count()).select_from(dead))).scalar_one() == 0
        await producer.send_and_wait(REGISTRY_HOUSEHOLD, family.to_bytes(), key=hid.encode())
        await wait_for(lambda: in_inbox(family), lambda ok: ok, timeout=30)
    finally:
        await producer.stop()
    assert [c for c in await _checks(rt) if c[0] == hid] == [(hid, "payment_failed")]


def _rule_published(code: str, version: int, desil_max: int) -> EventEnvelope:
    now = utcnow()
    data = ProgrammeRulePublished(
        programme_code=code, version=version, desil_min=1, desil_max=desil_max, effective_from=date(2025, 1, 1)
    )
    return EventEnvelope(
        event_type=ProgrammeEventType.RULE_PUBLISHED,
        source="disbursement",
        subject=code,
        aggregate_version=version,
        occurred_at=now,
        recorded_at=now,
        data=data.model_dump(mode="json"),
    )


Deliver = Callable[[list[EventEnvelope]], Awaitable[None]]


async def band_scenario(rt: ServiceRuntime, deliver: Deliver) -> None:
    """A new rule version with another band changes which desil moves open a ground check (configured [4, 5])."""
    code = f"P{uuid.uuid4().hex[:8].upper()}"
    ids = {k: f"hh-{k}-{uuid.uuid4().hex[:6]}" for k in "abcd"}
    await deliver([_rule_published(code, 1, 6)])
    # Band 1-6: 4 → 5 stays inside (the configured 4 and 5 are not used), 6 → 7 leaves it.
    await deliver([household_envelope(ids["a"], 1, desil=4), household_envelope(ids["b"], 1, desil=6)])
    await deliver([household_envelope(ids["a"], 2, desil=5), household_envelope(ids["b"], 2, desil=7)])
    await deliver([_rule_published(code, 2, 4)])
    # Band 1-4 now: 4 → 5 leaves it, 6 → 7 is a move outside every band.
    await deliver([household_envelope(ids["c"], 1, desil=4), household_envelope(ids["d"], 1, desil=6)])
    await deliver([household_envelope(ids["c"], 2, desil=5), household_envelope(ids["d"], 2, desil=7)])
    mine = [c for c in await _checks(rt) if c[0] in ids.values()]
    assert sorted(mine) == sorted([(ids["b"], "desil_crossing"), (ids["c"], "desil_crossing")])


def by_handlers(rt: ServiceRuntime) -> Deliver:
    """Deliver events straight to the service's handlers, one transaction each (no broker)."""
    settings = rt.settings
    assert isinstance(settings, VerificationSettings)
    handlers = household_handlers(settings)

    async def deliver(envelopes: list[EventEnvelope]) -> None:
        for env in envelopes:
            async with rt.sessions() as session, session.begin():
                await handlers[env.event_type](session, env)

    return deliver


async def test_published_programme_bands_decide_which_desil_moves_open_a_check(api: Api) -> None:
    await band_scenario(api.runtime, by_handlers(api.runtime))


async def test_programme_bands_arrive_through_kafka(live: Api, infra: Infra) -> None:
    rt = live.runtime
    inbox = rt.definition.messaging.inbox
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, enable_idempotence=True, acks="all")
    await producer.start()

    async def deliver(envelopes: list[EventEnvelope]) -> None:
        # One step at a time: a programme's events and a family's travel on different partitions.
        for env in envelopes:
            topic = DISBURSEMENT_PAYMENT if env.source == "disbursement" else REGISTRY_HOUSEHOLD
            await producer.send_and_wait(topic, env.to_bytes(), key=env.subject.encode())

        async def applied() -> int:
            async with rt.sessions() as session:
                stmt = (
                    select(func.count())
                    .select_from(inbox)
                    .where(inbox.c.event_id.in_([str(e.event_id) for e in envelopes]))
                )
                return int((await session.execute(stmt)).scalar_one())

        await wait_for(applied, lambda n: n == len(envelopes), timeout=60)

    try:
        await band_scenario(rt, deliver)
    finally:
        await producer.stop()
