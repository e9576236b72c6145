"""DCI subscribe / notify / unsubscribe against the real PostgreSQL and Kafka: the registry's own household events,
relayed to Kafka and consumed through its inbox, notify every subscribed family's changes in order, once each."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.registry.app import create_app
from services.registry.database import messaging
from services.registry.dci.notify import queue_notifications
from services.registry.domain.identifiers import today_wib
from shared.auth.principal import Role
from shared.events.envelope import EventEnvelope, utcnow
from shared.events.topics import PROBE, REGISTRY_HOUSEHOLD, VERIFICATION_OUTCOME
from tests.integration.dci.callbacks import (
    ASYNC,
    callback_rows,
    callback_settings,
    check_ack,
    check_callback,
    run_dci_job,
)
from tests.integration.dci.conftest import register
from tests.integration.dci.partner import Partner
from tests.integration.dci.receiver import Receiver
from tests.integration.registry.conftest import Registry
from tests.integration.registry.helpers import KEL_KURANJI, KEL_SELATAN, family_body, kk, nik
from tests.support.api import running
from tests.support.infra import Infra
from tests.support.kafka import start_group_at_end


@pytest.fixture
async def live_registry(pg_settings: Any, infra: Infra) -> AsyncIterator[Registry]:
    """The registry with its relay and Kafka consumer running (no scheduler: the tests run the DCI job), its
    consumer group starting at the end of the shared topics (other tests' events are not this one's)."""
    settings = callback_settings(pg_settings)
    topics = [VERIFICATION_OUTCOME, REGISTRY_HOUSEHOLD, PROBE]
    assert settings.consumer_group is not None
    await start_group_at_end(infra.kafka_bootstrap, settings.consumer_group, topics)
    app = create_app(settings)
    async with running(app) as client:
        await app.state.runtime.start_workers(schedule=False)
        yield Registry(client, app.state.runtime, settings.data_dir)


def _subscribe_message(*filters: dict[str, Any], event_type: str = "REGISTER") -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return {
        "transaction_id": str(uuid.uuid4()),
        "subscribe_request": [
            {
                "reference_id": f"sub-{i}",
                "timestamp": now,
                "subscribe_criteria": {
                    "reg_event_type": event_type,
                    "filter_type": "predicate",
                    "filter": [{"seq_num": 1, "expression1": f}],
                    "notify_record_type": "Group",
                },
            }
            for i, f in enumerate(filters, 1)
        ],
    }


def _wilayah(code: str) -> dict[str, Any]:
    return {"attribute_name": "wilayah", "operator": "eq", "attribute_value": code}


async def _household_events(registry: Registry, family_id: str) -> list[dict[str, Any]]:
    outbox = messaging.outbox
    stmt = select(outbox).where(outbox.c.subject == family_id).order_by(outbox.c.id)
    async with registry.runtime.sessions() as session:
        return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def _consumed(registry: Registry, event_ids: list[str]) -> None:
    """Wait until the registry's consumer has applied these events (its inbox holds them)."""
    inbox = messaging.inbox
    for _ in range(600):
        async with registry.runtime.sessions() as session:
            done = set(
                (await session.execute(select(inbox.c.event_id).where(inbox.c.event_id.in_(event_ids)))).scalars()
            )
        if done == set(event_ids):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"events not consumed: {set(event_ids) - done}")


async def _deliver_all(registry: Registry, now: datetime) -> None:
    """Run the DCI job until nothing is due (one family's notifications go one per run, in order)."""
    for step in range(100):
        counts = await run_dci_job(registry, now + timedelta(seconds=step))
        if not any(counts.values()):
            return
    raise AssertionError("callbacks kept coming")


async def test_subscription_sees_register_update_and_death_of_a_family_in_order(live_registry: Registry) -> None:
    registry = live_registry
    receiver = Receiver()
    receiver.start()
    try:
        await _run_subscription(registry, receiver)
    finally:
        receiver.stop()


async def _run_subscription(registry: Registry, receiver: Receiver) -> None:
    dashboard = Partner("dashboard.example.id", registry.data_dir)
    await register(
        registry,
        dashboard,
        callback_uris=[receiver.uri("/dci")],
        query_types=["predicate"],
        fields=["household_identifier", "location", "poverty_score", "status", "group_size"],
    )
    message = _subscribe_message(_wilayah("13.71.01"), _wilayah("13.72"))
    body = dashboard.envelope(message, action="subscribe", total=2)
    r = await registry.client.post(f"{ASYNC}/subscribe", json=body, headers=dashboard.headers())
    assert r.status_code == 200, r.text
    check_ack(r.json())
    now = utcnow()
    await _deliver_all(registry, now)
    ((_, on_subscribe),) = receiver.received
    check_callback(registry, on_subscribe, "on-subscribe", "SubscribeResponse")
    inside, outside = on_subscribe["message"]["subscribe_response"]
    assert (outside["status"], outside["status_reason_code"]) == ("rjct", "rjct.notify_details.invalid")
    assert inside["status"] == "succ"
    code = inside["subscriptions"][0]["code"]

    # Changes made through Tepat's own API: a registration, an update, a death; and a family elsewhere.
    op = registry.as_(Role.VERIFIKATOR)
    members = [
        {"nik": nik(10), "name": "Kepala", "relationship": "kepala_keluarga", "sex": "L", "birth_date": "1980-05-15"},
        {
            "nik": nik(11, day="55", yy="85"),
            "name": "Istri",
            "relationship": "istri",
            "sex": "P",
            "birth_date": "1985-05-15",
        },
    ]
    made = await op.create(family_body(no_kk=kk(1), head=nik(10), kelurahan=KEL_SELATAN, members=members))
    elsewhere = await op.create(family_body(no_kk=kk(2), head=nik(20), kelurahan=KEL_KURANJI))
    r = await op.patch(f"/families/{made['id']}", {"address": "Jl. Baru No. 1"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    wife = next(m for m in r.json()["members"] if m["relationship"] == "istri")
    death = {"deceased_date": "2026-11-02", "death_certificate_no": "1371-KM-0002"}
    r = await op.post(f"/members/{wife['id']}/deceased", death, headers={"If-Match": r.headers["etag"]})
    assert r.status_code == 200, r.text

    events = await _household_events(registry, made["id"])
    assert next(e["event_type"] for e in events) == "household.registered"
    assert "household.member_deceased" in [e["event_type"] for e in events]
    other_events = await _household_events(registry, elsewhere["id"])
    await _consumed(registry, [e["event_id"] for e in events + other_events])

    # A replayed event (at-least-once delivery) queues nothing twice: the message id comes from event and code.
    queued = await callback_rows(registry, action="notify")
    async with registry.runtime.sessions() as session, session.begin():
        replay = [
            EventEnvelope.model_validate({**e, "source": "registry", "data": json.loads(e["data"])}) for e in events
        ]
        await queue_notifications(session, replay, today=today_wib())
    assert len(await callback_rows(registry, action="notify")) == len(queued) == len(events)

    receiver.failing = True
    first = await run_dci_job(registry, now + timedelta(minutes=1))
    assert first["retry"] == 1  # only the family's first notify was tried: the later ones wait behind it
    receiver.failing = False
    await _deliver_all(registry, now + timedelta(minutes=10))
    notified = [b for path, b in receiver.received if b["header"]["action"] == "notify"]
    for body in notified:
        check_callback(registry, body, "notify", "NotifyEventRequest")
    assert [n["message"]["notify_event"][0]["reference_id"] for n in notified] == [e["event_id"] for e in events]
    assert [n["message"]["notify_event"][0]["data"]["reg_event_type"] for n in notified] == [
        f"tepat:{e['event_type']}" for e in events
    ]
    assert len({n["header"]["message_id"] for n in notified}) == len(notified)
    assert {n["message"]["transaction_id"] for n in notified} == {code}
    record = notified[-1]["message"]["notify_event"][0]["data"]["reg_records"]
    assert record["household_identifier"] == made["id"]
    assert "identifier" not in record  # a dashboard never receives No. KK or NIK
    assert record["group_size"] == 1  # after the death

    # Unsubscribed: an unknown code is reported, and later changes are not notified.
    stop = {
        "transaction_id": str(uuid.uuid4()),
        "timestamp": utcnow().isoformat(),
        "subscription_codes": [code, "nope"],
    }
    body = dashboard.envelope(stop, action="unsubscribe", total=1)
    r = await registry.client.post(f"{ASYNC}/unsubscribe", json=body, headers=dashboard.headers())
    assert r.status_code == 200, r.text
    check_ack(r.json())
    await _deliver_all(registry, now + timedelta(minutes=20))
    on_unsubscribe = receiver.received[-1][1]
    check_callback(registry, on_unsubscribe, "on-unsubscribe", "UnSubscribeResponse")
    answer = on_unsubscribe["message"]
    assert (answer["status"], answer["status_reason_code"]) == ("rjct", "rjct.subscription_code.invalid")
    assert answer["subscription_status"] == [{"code": code, "status": "unsubscribe"}]
    etag = (await op.get(f"/families/{made['id']}")).headers["etag"]
    r = await op.patch(f"/families/{made['id']}", {"address": "Jl. Lain No. 2"}, headers={"If-Match": etag})
    assert r.status_code == 200, r.text
    after = await _household_events(registry, made["id"])
    await _consumed(registry, [e["event_id"] for e in after])
    assert len(await callback_rows(registry, action="notify")) == len(events)
