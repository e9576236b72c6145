"""Async DCI in embedded mode (SQLite, in-process bus, `make run`): an async search and a subscription through
the gateway, answered by the `dci-callbacks` job run from the CLI (`tepat jobs run registry.dci-callbacks`)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.cli import main
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from shared.auth.principal import Role
from tests.integration.dci.partner import Partner, by_id, search_message
from tests.integration.dci.receiver import Receiver
from tests.integration.registry.helpers import KEL_SELATAN, family_body, kk
from tests.support.api import auth, running

DCI = "/dci/social/registry"


async def test_async_search_and_subscription_in_embedded_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEPAT_REGISTRY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TEPAT_REGISTRY_DCI_CALLBACK_ALLOWED_ADDRESSES", '["127.0.0.1"]')
    receiver = Receiver()
    receiver.start()
    app = create_app(GatewaySettings(data_dir=tmp_path, demo_families=0))
    bank = Partner("bank.example.id", tmp_path)
    try:
        async with running(app) as client:
            registration = bank.registration(callback_uris=[receiver.uri("/dci")])
            r = await client.post("/api/registry/dci/partners", json=registration, headers=auth(tmp_path, Role.SYSTEM))
            assert r.status_code == 201, r.text
            now = datetime.now(UTC).isoformat(timespec="seconds")
            criteria = {
                "reg_event_type": "REGISTER",
                "filter_type": "expression",
                "filter": {"type": "tepat:filter", "value": {"expression": "wilayah eq 13.71.01"}},
                "notify_record_type": "Group",
            }
            subscribe = {
                "transaction_id": str(uuid.uuid4()),
                "subscribe_request": [{"reference_id": "s1", "timestamp": now, "subscribe_criteria": criteria}],
            }
            r = await client.post(
                f"{DCI}/subscribe", json=bank.envelope(subscribe, action="subscribe", total=1), headers=bank.headers()
            )
            assert r.status_code == 200, r.text
            made = await client.post(
                "/api/registry/families",
                json=family_body(no_kk=kk(1), kelurahan=KEL_SELATAN),
                headers=auth(tmp_path, Role.VERIFIKATOR),
            )
            assert made.status_code == 201, made.text
            r = await client.post(
                f"{DCI}/search", json=bank.envelope(search_message(by_id("KK", kk(1)))), headers=bank.headers()
            )
            assert r.status_code == 200, r.text
            assert r.json()["message"]["ack_status"] == "ACK"
            # The in-process bus hands the registry its own household event; the job then sends everything.
            for _ in range(100):
                assert await asyncio.to_thread(main, ["jobs", "run", "registry.dci-callbacks"]) == 0
                if any(b["header"]["action"] == "notify" for _, b in receiver.received):
                    break
                await asyncio.sleep(0.2)
    finally:
        receiver.stop()
    actions = [b["header"]["action"] for _, b in receiver.received]
    assert sorted(actions) == ["notify", "on-search", "on-subscribe"]
    by_action = {b["header"]["action"]: b for _, b in receiver.received}
    assert (
        by_action["on-search"]["message"]["search_response"][0]["data"]["reg_records"][0]["household_identifier"]
        == made.json()["id"]
    )
    event = by_action["notify"]["message"]["notify_event"][0]
    assert event["data"]["reg_event_type"] == "tepat:household.registered"
    assert event["data"]["reg_records"]["household_identifier"] == made.json()["id"]
