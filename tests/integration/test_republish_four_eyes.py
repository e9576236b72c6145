"""The backfill end to end: verification holds a family without its member digests (its last event predates the
field, or the read model was rebuilt from such events), so the four-eyes rule cannot tell an approver's family and
refuses as unknown; the registry republishes the family, verification applies the newer version, and then the
approval by a member of the family is refused while one by a non-member goes through. Twice changes nothing more.
On PostgreSQL + Kafka and in the embedded mode (SQLite + in-process bus)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select

from services.registry.settings import RegistrySettings
from services.verification.households.models import household, household_member_digest
from shared.auth.principal import Role
from tests.integration.registry.helpers import Api as RegistryApi
from tests.integration.test_four_eyes_registry import embedded_apps, kafka_apps, own_family_check
from tests.integration.verification.helpers import Api, runtime_of
from tests.support.infra import Infra
from tests.support.waiting import wait_for


async def _read_model(api: Api, hid: str) -> tuple[int, int, str | None]:
    """(digests, version, last event type) of the family in verification's read model."""
    async with runtime_of(api.app).sessions() as s:
        # The version first: SQLite reads each SELECT at its own moment, and the handler commits version and
        # digests together, so digests read after a new version are that version's.
        row = (
            await s.execute(
                select(household.c.version, household.c.last_event_type).where(household.c.household_id == hid)
            )
        ).first()
        c = household_member_digest.c
        digests = int((await s.execute(select(func.count()).where(c.household_id == hid))).scalar_one())
    return (digests, row.version, row.last_event_type) if row is not None else (digests, 0, None)


async def _republish_fills_in_the_digests(r_client: httpx.AsyncClient, api: Api, registry: RegistrySettings) -> None:
    family = await own_family_check(r_client, api, registry)
    hid, check = family.household_id, family.check
    version = (await family.operator.get(f"/families/{hid}")).json()["version"]
    # What a read model fed only by events from before `member_digests` holds: the family, none of its members.
    async with runtime_of(api.app).sessions() as s, s.begin():
        await s.execute(delete(household_member_digest).where(household_member_digest.c.household_id == hid))

    unknown = await api.call("POST", f"/ground-checks/{check}/approve", family.own, expect=409)
    assert unknown["code"] == "approver_family_unknown"

    ops = RegistryApi(r_client, registry.data_dir, Role.SYSTEM)
    for times in (1, 2):  # the second run sends the same state again, one version on: nothing breaks
        r = await ops.post("/ops/households/republish", {"wilayah": "13.71.01", "family_ids": [hid]})
        assert (r.status_code, r.json()["families"]) == (200, 1), r.text
        want = version + times

        def applied(model: tuple[int, int, str | None], want: int = want) -> bool:
            return model[1] == want

        model = await wait_for(lambda: _read_model(api, hid), applied)
        assert model == (2, want, "household.republished")

    refused = await api.call("POST", f"/ground-checks/{check}/approve", family.own, expect=403)
    assert (refused["code"], "own family" in refused["detail"]) == ("four_eyes", True)
    assert (await api.call("POST", f"/ground-checks/{check}/approve", family.boss))["status"] == "approved"
    # Verification holds the registry's version: republished twice, two versions on.
    assert (await family.operator.get(f"/families/{hid}")).json()["version"] == version + 2


@pytest.mark.infra
async def test_republish_fills_in_member_digests_on_postgresql_and_kafka(pg_settings: Any, infra: Infra) -> None:
    async with kafka_apps(pg_settings, infra) as (r_client, api, registry):
        await _republish_fills_in_the_digests(r_client, api, registry)


async def test_republish_fills_in_member_digests_embedded(sqlite_settings: Any) -> None:
    async with embedded_apps(sqlite_settings) as (r_client, api, registry):
        await _republish_fills_in_the_digests(r_client, api, registry)
