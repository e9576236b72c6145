"""The four-eyes fact end to end: the registry registers a family with an approver's NIK among its members, the
event carries the members' NIK digests to verification's read model, and that approver's approval of the family's
ground check is refused (while an approver outside the family may approve it). On PostgreSQL + Kafka and in the
embedded mode (SQLite + in-process bus)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from services.registry.app import create_app as registry_app
from services.registry.settings import RegistrySettings
from services.verification.app import create_app as verification_app
from services.verification.app import definition as verification_definition
from services.verification.households.models import household_member_digest
from services.verification.settings import VerificationSettings
from shared.auth.principal import Role
from shared.bus.local import LocalBus
from shared.events.topics import PROBE
from tests.integration.registry.helpers import KEL_SELATAN, family_body, kk, nik
from tests.integration.registry.helpers import Api as RegistryApi
from tests.integration.verification.helpers import KEC_A, Api, runtime_of, visit_body
from tests.support.api import running
from tests.support.infra import Infra
from tests.support.kafka import start_group_at_end
from tests.support.waiting import wait_for

APPROVER_NIK = nik(4711, day="45", yy="90")  # the officer, a woman born 05-05-1990, member of the family


@asynccontextmanager
async def apps(
    registry: RegistrySettings, verification: VerificationSettings, bus: LocalBus | None
) -> AsyncIterator[tuple[httpx.AsyncClient, Api]]:
    """Both services running with their relays and consumers."""
    async with AsyncExitStack() as stack:
        v_app = verification_app(verification, bus=bus)
        v_client = await stack.enter_async_context(running(v_app))
        r_client = await stack.enter_async_context(running(registry_app(registry, bus=bus)))
        yield r_client, Api(v_client, verification.data_dir, v_app)


Running = tuple[httpx.AsyncClient, Api, RegistrySettings]


@asynccontextmanager
async def kafka_apps(pg_settings: Any, infra: Infra) -> AsyncIterator[Running]:
    """Both services on PostgreSQL + Kafka: the registry's client, verification's Api, the registry's settings."""
    registry = pg_settings(RegistrySettings, auto_migrate=True)
    verification = pg_settings(VerificationSettings, auto_migrate=True)
    # Only this test's events: the consumer group starts at the topics' current end.
    topics = [*verification_definition(verification).topics, PROBE]
    await start_group_at_end(infra.kafka_bootstrap, verification.consumer_group, topics)
    async with apps(registry, verification, None) as (r_client, api):
        yield r_client, api, registry


@asynccontextmanager
async def embedded_apps(sqlite_settings: Any) -> AsyncIterator[Running]:
    """Both services in the embedded mode (SQLite, one in-process bus), as `kafka_apps`."""
    registry = sqlite_settings(RegistrySettings)
    async with apps(registry, sqlite_settings(VerificationSettings), LocalBus()) as (r_client, api):
        yield r_client, api, registry


@dataclass(frozen=True)
class OwnFamily:
    """An approver's family in the registry and its visited ground check in verification."""

    household_id: str
    check: int
    own: dict[str, str]  # the approver who is a member of the family
    boss: dict[str, str]  # an approver of no family
    operator: RegistryApi  # the kelurahan operator who registered the family


async def own_family_check(r_client: httpx.AsyncClient, api: Api, registry: RegistrySettings) -> OwnFamily:
    """Register the officers and a family with an approver's NIK among its members; once its member digests are
    in verification's read model, a ground check of it, visited and waiting for approval."""
    boss = await api.approver("verif-1")
    await api.officer("tksk-a", "tksk", KEC_A)
    # The approver's NIK is registered once, by the kepala dinas, with no household_id typed anywhere.
    await api.officer("verif-own", "verifikator", "13.71", nik=APPROVER_NIK)
    own = api.as_("verifikator", subject="verif-own")

    head = nik(4710)
    members = [
        {"nik": head, "name": "Budi Santoso", "relationship": "kepala_keluarga"},
        {"nik": APPROVER_NIK, "name": "Sari Santoso", "relationship": "istri"},
    ]
    operator = RegistryApi(r_client, registry.data_dir, Role.OPERATOR_KELURAHAN, KEL_SELATAN)
    family = await operator.create(family_body(no_kk=kk(4710), head=head, members=members))
    hid = family["id"]

    async def digests() -> int:
        async with runtime_of(api.app).sessions() as s:
            c = household_member_digest.c
            return int((await s.execute(select(func.count()).where(c.household_id == hid))).scalar_one())

    assert await wait_for(digests, lambda n: n == 2) == 2

    system = api.as_("system", subject="agent")
    body = {"kind": "desil_review", "channel": "digital_agent", "household_id": hid}
    p = await api.call("POST", "/proposals", system, body, 201)
    p = await api.call("POST", f"/proposals/{p['id']}/actions/submit", system)
    check = p["ground_check_id"]
    tksk = api.as_("tksk", KEC_A, subject="tksk-a")
    await api.call("POST", f"/ground-checks/{check}/visit", tksk, visit_body(photo=await api.photo()))
    return OwnFamily(hid, check, own, boss, operator)


async def _own_family_is_refused(r_client: httpx.AsyncClient, api: Api, registry: RegistrySettings) -> None:
    family = await own_family_check(r_client, api, registry)
    check = family.check
    refused = await api.call("POST", f"/ground-checks/{check}/approve", family.own, expect=403)
    assert (refused["code"], "own family" in refused["detail"]) == ("four_eyes", True)
    # The dinas cannot declare the officer family-less either: the registry lists the NIK in a family.
    untrue = {"subject": "verif-own", "role": "verifikator", "wilayah_code": "13.71", "no_registered_family": True}
    kadis = api.as_("kepala_dinas", subject="kadis")
    refused = await api.call("PUT", "/officers/verif-own", kadis, untrue, expect=422)
    assert refused["code"] == "officer_in_registered_family"
    assert (await api.call("POST", f"/ground-checks/{check}/approve", family.boss))["status"] == "approved"


@pytest.mark.infra
async def test_own_family_is_refused_on_postgresql_and_kafka(pg_settings: Any, infra: Infra) -> None:
    async with kafka_apps(pg_settings, infra) as (r_client, api, registry):
        await _own_family_is_refused(r_client, api, registry)


async def test_own_family_is_refused_embedded(sqlite_settings: Any) -> None:
    async with embedded_apps(sqlite_settings) as (r_client, api, registry):
        await _own_family_is_refused(r_client, api, registry)
