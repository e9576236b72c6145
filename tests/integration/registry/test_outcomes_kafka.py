"""verification.completed through the real broker: applied once, duplicates and stale outcomes change nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from services.registry.app import create_app
from services.registry.families.models import family
from services.registry.settings import RegistrySettings
from shared.auth.principal import Role
from shared.events.envelope import EventEnvelope, utcnow
from shared.events.household import VerificationEventType, VerificationOutcome
from shared.events.topics import PROBE, REGISTRY_HOUSEHOLD, VERIFICATION_OUTCOME
from tests.integration.registry.helpers import KEL_SELATAN, Api, family_body, kk
from tests.support.api import running
from tests.support.infra import Infra
from tests.support.kafka import start_group_at_end
from tests.support.waiting import wait_for

pytestmark = pytest.mark.infra


def _envelope(
    household_id: str, outcome: Literal["layak", "tidak_layak"], reason: str | None, minutes_ago: int
) -> EventEnvelope:
    now = utcnow()
    data = VerificationOutcome(
        household_id=household_id,
        check_id=f"gc-{minutes_ago}",
        outcome=outcome,
        reason=reason,
        verified_at=now - timedelta(minutes=minutes_ago),
        officer_role="tksk",
    )
    return EventEnvelope(
        event_type=VerificationEventType.COMPLETED,
        source="verification",
        subject=household_id,
        aggregate_version=1,
        occurred_at=now,
        recorded_at=now,
        data=data.model_dump(mode="json"),
    )


async def test_outcome_delivered_twice_changes_the_family_once(pg_settings: Any, infra: Infra) -> None:
    settings = pg_settings(RegistrySettings, auto_migrate=True)
    await start_group_at_end(
        infra.kafka_bootstrap, settings.consumer_group, [VERIFICATION_OUTCOME, REGISTRY_HOUSEHOLD, PROBE]
    )
    app = create_app(settings)
    async with running(app) as client:
        runtime = app.state.runtime
        op = Api(client, settings.data_dir, Role.OPERATOR_KELURAHAN, KEL_SELATAN)
        f = await op.create(family_body(no_kk=kk(1)))
        fresh = _envelope(f["id"], "tidak_layak", "moved", minutes_ago=5)
        stale = _envelope(f["id"], "layak", None, minutes_ago=60)
        producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, enable_idempotence=True, acks="all")
        await producer.start()
        try:
            # Same key → same partition → applied in this order: the event, its duplicate, an older outcome.
            for env in (fresh, fresh, stale):
                await producer.send_and_wait(VERIFICATION_OUTCOME, env.to_bytes(), key=f["id"].encode())
        finally:
            await producer.stop()

        inbox = runtime.definition.messaging.inbox
        outbox = runtime.definition.messaging.outbox

        async def applied() -> int:
            async with runtime.sessions() as s:
                # The registry also reads its own household topic (DCI notify): count the outcomes only.
                outcomes = (inbox.c.subject == f["id"], inbox.c.topic == VERIFICATION_OUTCOME)
                stmt = select(func.count()).select_from(inbox).where(*outcomes)
                return int((await s.execute(stmt)).scalar_one())

        await wait_for(applied, lambda n: n == 2, timeout=30)
        async with runtime.sessions() as s:
            row = (await s.execute(select(family).where(family.c.id == f["id"]))).mappings().one()
            types = (
                (await s.execute(select(outbox.c.event_type).where(outbox.c.subject == f["id"]).order_by(outbox.c.id)))
                .scalars()
                .all()
            )
        assert (row["data_status"], row["status_reason"], row["existence_status"]) == ("inactive", "moved", "moved")
        assert row["last_verified_at"] == datetime.fromisoformat(str(fresh.data["verified_at"]))
        assert list(types) == ["household.registered", "household.status_changed"]
        history = (await op.get(f"/families/{f['id']}/history")).json()
        assert [(h["action"], h["actor"]) for h in history][-1] == ("status_changed", "verification")
