"""The registry in embedded mode (SQLite + in-process bus): the same rules hold on the other dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from services.registry.app import create_app
from services.registry.families.models import family
from services.registry.settings import RegistrySettings
from shared.auth.principal import Role
from shared.bus.base import OutgoingMessage
from shared.bus.local import LocalBus
from shared.events.topics import VERIFICATION_OUTCOME
from tests.integration.registry.helpers import HEAD_NIK, KEL_SELATAN, WIFE_NIK, Api, family_body, kk
from tests.integration.registry.test_outcomes_kafka import _envelope
from tests.support.api import running
from tests.support.waiting import wait_for


async def test_embedded_rules_and_outcome(sqlite_settings: Any) -> None:
    settings = sqlite_settings(RegistrySettings)
    bus = LocalBus()
    app = create_app(settings, bus=bus)
    async with running(app) as client:
        runtime = app.state.runtime
        op = Api(client, settings.data_dir, Role.OPERATOR_KELURAHAN, KEL_SELATAN)
        a = await op.create(family_body(no_kk=kk(1)))
        # One active NIK, by the partial unique index on SQLite too.
        r = await op.post(
            "/families",
            family_body(
                no_kk=kk(2),
                head=WIFE_NIK,
                members=[
                    {"nik": WIFE_NIK, "name": "Siti", "relationship": "kepala_keluarga"},
                    {"nik": HEAD_NIK, "name": "Budi", "relationship": "suami"},
                ],
            ),
        )
        assert (r.status_code, r.json()["code"]) == (409, "nik.already_active")
        # A second KK headed by the same person is flagged on both families.
        c = await op.create(family_body(no_kk=kk(3), head=HEAD_NIK, members=[]))
        assert c["open_flags"] == ["duplicate_kk"]
        assert (await op.get(f"/families/{a['id']}")).json()["data_status"] == "needs_verification"
        r = await op.post("/families", {**family_body(no_kk=kk(4)), "head_nik": "1371017201900001"})
        assert r.json()["errors"][0] == {
            "field": "head_nik",
            "reason": "nik.bad_day",
            "message": "NIK birth day must be 01-31 (men) or 41-71 (women)",
        }
        outbox = runtime.definition.messaging.outbox

        async def status_changes() -> int:
            async with runtime.sessions() as s:
                stmt = (
                    select(func.count())
                    .select_from(outbox)
                    .where(outbox.c.subject == c["id"], outbox.c.event_type == "household.status_changed")
                )
                return int((await s.execute(stmt)).scalar_one())

        before = await status_changes()  # active → needs_verification by the duplicate_kk flag
        assert before == 1
        env = _envelope(c["id"], "tidak_layak", "duplicate", minutes_ago=1)
        message = OutgoingMessage(topic=VERIFICATION_OUTCOME, key=c["id"].encode(), value=env.to_bytes())
        await bus.publish([message, message])

        async def status() -> str:
            async with runtime.sessions() as s:
                return str((await s.execute(select(family.c.data_status).where(family.c.id == c["id"]))).scalar_one())

        await wait_for(status, lambda v: v == "inactive", timeout=5)
        assert await status_changes() == before + 1
