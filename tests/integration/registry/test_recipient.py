"""The family's recipient (issue 12 item 4) on PostgreSQL and SQLite: a confirmed death of the head raises
recipient_deceased, a recipient change names an adult member and clears it, with history and events."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, insert, select, update

from services.registry.app import create_app
from services.registry.families.models import family, flag
from services.registry.settings import RegistrySettings
from shared.auth.principal import Role
from shared.bus.base import IncomingRecord
from shared.events.envelope import EventEnvelope, utcnow
from shared.events.household import VerificationEventType
from shared.events.recipient import RecipientChangeApproved
from shared.events.topics import PROBE, REGISTRY_HOUSEHOLD, VERIFICATION_OUTCOME
from shared.runtime.service import ServiceRuntime
from tests.integration.registry.conftest import Registry
from tests.integration.registry.helpers import (
    CHILD_NIK,
    HEAD_NIK,
    KEL_KURANJI,
    KEL_SELATAN,
    WIFE_NIK,
    Api,
    family_body,
    kk,
    nik,
)
from tests.support.api import running
from tests.support.infra import Infra
from tests.support.kafka import start_group_at_end
from tests.support.waiting import wait_for

REASON = "kepala keluarga meninggal, istri jadi pengurus"


def _members(serial: int = 0) -> list[dict[str, Any]]:
    if serial == 0:
        head, wife, child = HEAD_NIK, WIFE_NIK, CHILD_NIK
    else:
        head, wife = nik(serial), nik(serial + 1, day="55", yy="85")
        child = nik(serial + 2, day="10", month="03", yy="22")
    return [
        {"nik": head, "name": "Budi", "relationship": "kepala_keluarga", "birth_date": "1980-05-15"},
        {"nik": wife, "name": "Siti", "relationship": "istri", "birth_date": "1985-05-15"},
        {"nik": child, "name": "Andi", "relationship": "anak", "birth_date": "2022-03-10"},
    ]


async def _events(runtime: ServiceRuntime, subject: str) -> list[dict[str, Any]]:
    t = runtime.definition.messaging.outbox
    async with runtime.sessions() as s:
        rows = await s.execute(select(t.c.event_type, t.c.data).where(t.c.subject == subject).order_by(t.c.id))
        return [
            {"event_type": r.event_type, "data": json.loads(r.data) if isinstance(r.data, str) else r.data}
            for r in rows
        ]


async def _recipient_scenario(client: httpx.AsyncClient, runtime: ServiceRuntime, data_dir: Any) -> None:
    op = Api(client, data_dir, Role.OPERATOR_KELURAHAN, KEL_SELATAN)
    ver = Api(client, data_dir, Role.VERIFIKATOR, KEL_SELATAN)
    f = await op.create(family_body(no_kk=kk(1), members=_members()))
    head, wife, child = (m["id"] for m in f["members"])
    assert f["recipient_member_id"] == head
    other = await op.create(
        family_body(
            no_kk=kk(2),
            head=nik(9),
            members=[{"nik": nik(9), "name": "Rudi", "relationship": "kepala_keluarga", "birth_date": "1980-05-15"}],
        )
    )
    # A family a bulk import wrote stores no recipient: it reads as its head, in the list and the detail.
    async with runtime.sessions() as s, s.begin():
        await s.execute(update(family).where(family.c.id == other["id"]).values(recipient_member_id=None))
    listed = {x["id"]: x for x in (await op.get("/families", params={"limit": 200})).json()["items"]}
    assert listed[other["id"]]["recipient_member_id"] == other["members"][0]["id"]
    assert listed[f["id"]]["recipient_member_id"] == head
    assert (await op.get(f"/families/{other['id']}")).json()["recipient_member_id"] == other["members"][0]["id"]
    # A Dukcapil death list names the head; the verifikator confirms it.
    async with runtime.sessions() as s, s.begin():
        flag_id = (
            await s.execute(
                insert(flag)
                .values(
                    family_id=f["id"],
                    member_id=head,
                    subject_key=head,
                    kind="deceased_dukcapil",
                    status="open",
                    source="dukcapil",
                    detail={"deceased_date": "2026-01-02"},
                    raised_at=utcnow(),
                )
                .returning(flag.c.id)
            )
        ).scalar_one()
    r = await ver.post(f"/flags/{flag_id}/confirm", {"reason": "akta kematian diperiksa"})
    assert r.status_code == 200, r.text
    r = await ver.get(f"/families/{f['id']}")
    fam = r.json()
    assert "recipient_deceased" in fam["open_flags"]
    assert fam["recipient_member_id"] == head
    # A payment hold, not a doubt about the family: it stays active while a new recipient is found.
    assert (fam["data_status"], fam["status_reason"]) == ("active", None)
    async with runtime.sessions() as s:
        raised = (
            (await s.execute(select(flag).where(flag.c.family_id == f["id"], flag.c.kind == "recipient_deceased")))
            .mappings()
            .one()
        )
    assert (raised["status"], raised["member_id"], raised["detail"]) == ("open", head, {"member_id": head})
    flagged = [e for e in await _events(runtime, f["id"]) if e["event_type"] == "household.flagged"]
    assert flagged[-1]["data"]["change"]["kind"] == "recipient_deceased"
    assert flagged[-1]["data"]["recipient_member_id"] == head
    assert "recipient_deceased" in flagged[-1]["data"]["open_flags"]

    url = f"/families/{f['id']}/recipient"
    etag = {"If-Match": r.headers["etag"]}
    refusals = {
        child: "recipient.minor",
        head: "recipient.deceased",
        other["members"][0]["id"]: "recipient.not_in_family",
        "no-such-member": "recipient.not_in_family",
    }
    for member_id, reason in refusals.items():
        r = await ver.post(url, {"member_id": member_id, "reason": REASON}, headers=etag)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert [(e["field"], e["reason"]) for e in r.json()["errors"]] == [("member_id", reason)]
    assert (await ver.post(url, {"member_id": wife, "reason": REASON})).status_code == 428
    r = await op.post(url, {"member_id": wife, "reason": REASON}, headers=etag)
    assert r.status_code == 403
    outsider = Api(client, data_dir, Role.VERIFIKATOR, KEL_KURANJI)
    r = await outsider.post(url, {"member_id": wife, "reason": REASON}, headers=etag)
    assert (r.status_code, r.json()["code"]) == (404, "family_not_found")

    r = await ver.post(url, {"member_id": wife, "reason": REASON}, headers=etag)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["recipient_member_id"] == wife
    assert "recipient_deceased" not in out["open_flags"]
    async with runtime.sessions() as s:
        assert (await s.execute(select(flag.c.status).where(flag.c.id == raised["id"]))).scalar_one() == "cleared"
    events = await _events(runtime, f["id"])
    changed = [e for e in events if e["data"]["change"].get("type") == "recipient_changed"]
    assert len(changed) == 1
    assert changed[0]["event_type"] == "household.updated"
    assert changed[0]["data"]["change"]["to"] == wife
    assert changed[0]["data"]["recipient_member_id"] == wife
    assert events[-1]["data"]["open_flags"] == sorted(set(events[-1]["data"]["open_flags"]) - {"recipient_deceased"})
    history = (await ver.get(f"/families/{f['id']}/history")).json()
    entry = next(h for h in history if h["action"] == "recipient_changed")
    assert (entry["member_id"], entry["reason"], entry["before"], entry["after"]) == (
        wife,
        REASON,
        {"recipient_member_id": head},
        {"recipient_member_id": wife},
    )
    # The same recipient again changes nothing (a redelivered outcome is harmless).
    r = await ver.post(url, {"member_id": wife, "reason": REASON}, headers={"If-Match": f'"{out["version"]}"'})
    assert (r.status_code, r.json()["version"]) == (200, out["version"])
    assert len(await _events(runtime, f["id"])) == len(events)


def approval(household_id: str, member_id: str, kelurahan: str = KEL_SELATAN) -> EventEnvelope:
    """A recipient.change_approved event as verification emits it after the four-eyes ground check."""
    now = utcnow()
    data = RecipientChangeApproved(
        household_id=household_id, proposal_id="77", member_id=member_id, kelurahan_code=kelurahan, approved_at=now
    )
    return EventEnvelope(
        event_type=VerificationEventType.RECIPIENT_CHANGE_APPROVED,
        source="verification",
        subject=household_id,
        aggregate_version=1,
        occurred_at=now,
        recorded_at=now,
        data=data.model_dump(mode="json"),
    )


async def dead_head_family(op: Api, no_kk: str) -> dict[str, Any]:
    """A family of three whose head (the recipient) is recorded dead through the API."""
    f = await op.create(family_body(no_kk=no_kk, head=nik(50), members=_members(50)))
    r = await op.post(
        f"/members/{f['members'][0]['id']}/deceased",
        {"deceased_date": "2026-01-02", "death_certificate_no": "1371-KM-0050"},
        headers={"If-Match": f'"{f["version"]}"'},
    )
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    assert "recipient_deceased" in out["open_flags"]
    return out


async def _outcome_scenario(client: httpx.AsyncClient, runtime: ServiceRuntime, data_dir: Any) -> None:
    op = Api(client, data_dir, Role.OPERATOR_KELURAHAN, KEL_SELATAN)
    f = await dead_head_family(op, kk(5))
    _, wife, child = (m["id"] for m in f["members"])
    consumer = runtime.make_consumer()
    assert consumer is not None
    refused = await consumer.process([_record(approval(f["id"], child))])
    assert len(refused) == 1
    assert "recipient.minor" in refused[0].error
    ok = approval(f["id"], wife)
    assert await consumer.process([_record(ok), _record(ok)]) == []
    out = (await op.get(f"/families/{f['id']}")).json()
    assert out["recipient_member_id"] == wife
    assert "recipient_deceased" not in out["open_flags"]
    history = (await Api(client, data_dir, Role.VERIFIKATOR).get(f"/families/{f['id']}/history")).json()
    changes = [(h["action"], h["actor"]) for h in history if h["action"] == "recipient_changed"]
    assert changes == [("recipient_changed", "verification")]


def _record(envelope: EventEnvelope) -> IncomingRecord:
    return IncomingRecord(topic=VERIFICATION_OUTCOME, value=envelope.to_bytes(), partition=0, offset=0)


@pytest.mark.infra
async def test_recipient_on_postgresql(registry: Registry) -> None:
    await _recipient_scenario(registry.client, registry.runtime, registry.data_dir)
    await _outcome_scenario(registry.client, registry.runtime, registry.data_dir)


async def test_recipient_on_sqlite(sqlite_settings: Any) -> None:
    settings = sqlite_settings(RegistrySettings, run_workers=False)
    app = create_app(settings)
    async with running(app) as client:
        await _recipient_scenario(client, app.state.runtime, settings.data_dir)
        await _outcome_scenario(client, app.state.runtime, settings.data_dir)


@pytest.mark.infra
async def test_recipient_change_over_kafka_applies_once(pg_settings: Any, infra: Infra) -> None:
    settings = pg_settings(RegistrySettings, auto_migrate=True)
    await start_group_at_end(
        infra.kafka_bootstrap, settings.consumer_group, [VERIFICATION_OUTCOME, REGISTRY_HOUSEHOLD, PROBE]
    )
    app = create_app(settings)
    async with running(app) as client:
        runtime = app.state.runtime
        op = Api(client, settings.data_dir, Role.OPERATOR_KELURAHAN, KEL_SELATAN)
        f = await dead_head_family(op, kk(7))
        wife = f["members"][1]["id"]
        ok = approval(f["id"], wife)
        producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, enable_idempotence=True, acks="all")
        await producer.start()
        try:
            for env in (ok, ok):  # the relay's redelivery
                await producer.send_and_wait(VERIFICATION_OUTCOME, env.to_bytes(), key=f["id"].encode())
        finally:
            await producer.stop()

        async def recipient() -> str | None:
            out: str | None = (await op.get(f"/families/{f['id']}")).json()["recipient_member_id"]
            return out

        await wait_for(recipient, lambda r: r == wife, timeout=30)
        inbox = runtime.definition.messaging.inbox
        async with runtime.sessions() as s:
            # The registry also reads its own household topic (DCI notify): count the outcomes only.
            only_outcomes = (inbox.c.subject == f["id"], inbox.c.topic == VERIFICATION_OUTCOME)
            applied = await s.execute(select(func.count()).select_from(inbox).where(*only_outcomes))
            assert applied.scalar_one() == 1
        out = (await op.get(f"/families/{f['id']}")).json()
        assert "recipient_deceased" not in out["open_flags"]
        types = [e["event_type"] for e in await _events(runtime, f["id"])]
        assert types.count("household.updated") == 1
