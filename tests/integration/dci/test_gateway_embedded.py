"""DCI through the gateway in embedded mode (SQLite, `make run`): partner registered over the API, sync search."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.cli import main
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from services.registry.dci import spec
from shared.auth.principal import Role
from tests.integration.dci.partner import Partner, by_id, predicate, search_message
from tests.integration.registry.helpers import HEAD_NIK, family_body, kk
from tests.support.api import auth, running

ANSWER = "#/paths/~1registry~1sync~1search/post/responses/default/content/application~1json/schema"


async def test_partner_round_trip_through_the_embedded_gateway(tmp_path: Path) -> None:
    app = create_app(GatewaySettings(data_dir=tmp_path, demo_families=0))
    async with running(app) as client:
        made = await client.post(
            "/api/registry/families", json=family_body(no_kk=kk(1)), headers=auth(tmp_path, Role.VERIFIKATOR)
        )
        assert made.status_code == 201, made.text
        pos = Partner("pos.example.id", tmp_path)
        registered = await client.post(
            "/api/registry/dci/partners", json=pos.registration(), headers=auth(tmp_path, Role.SYSTEM)
        )
        assert registered.status_code == 201, registered.text
        # Registering partners is an operations task: a field officer may not.
        refused = await client.post(
            "/api/registry/dci/partners", json=pos.registration(), headers=auth(tmp_path, Role.TKSK, "13.71.01")
        )
        assert refused.status_code == 403

        message = search_message(by_id("NIK", HEAD_NIK), predicate(("group_size", "ge", 1)))
        r = await client.post("/dci/social/registry/sync/search", json=pos.envelope(message), headers=pos.headers())
        assert r.status_code == 200, r.text
        assert spec.problems(spec.validator(ANSWER), r.json()) == []
        answers = r.json()["message"]["search_response"]
        assert answers[0]["data"]["reg_records"][0]["identifier"][0]["identifier_value"] == HEAD_NIK
        assert answers[1]["data"]["reg_records"][0]["household_identifier"] == made.json()["id"]

        paths = (await client.get("/openapi.json")).json()["paths"]
        endpoints = ("sync/search", "sync/txn/status", "search", "txn/status", "subscribe", "unsubscribe")
        assert {f"/dci/social/registry/{e}" for e in endpoints} <= set(paths)
        assert {"/api/registry/dci/callbacks", "/api/registry/dci/callbacks/{callback_id}/retry"} <= set(paths)

        unsigned = pos.envelope(message)
        unsigned.pop("signature")
        r = await client.post("/dci/social/registry/sync/search", json=unsigned, headers=pos.headers())
        assert r.status_code == 401
        assert r.json() == {
            "errors": [{"code": "err.signature.missing", "message": "The message carries no signature."}]
        }


async def test_partner_registered_with_the_cli_can_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(GatewaySettings(data_dir=tmp_path, demo_families=0))
    province = Partner("dashboard.sumbarprov.go.id", tmp_path)
    key_file = tmp_path / "province.pem"
    key_file.write_bytes(province.key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    async with running(app) as client:
        await client.post(
            "/api/registry/families", json=family_body(no_kk=kk(1)), headers=auth(tmp_path, Role.VERIFIKATOR)
        )
        monkeypatch.setenv("TEPAT_REGISTRY_DATA_DIR", str(tmp_path))
        code = await asyncio.to_thread(
            main,
            [
                "dci-partner",
                "--sender-id",
                province.sender_id,
                "--name",
                "Sumbar",
                "--oauth-subject",
                province.subject,
                "--public-key",
                str(key_file),
                "--query-types",
                "predicate",
                "--wilayah",
                "13.71",
                "--fields",
                "location,poverty_score,status,group_size",
            ],
        )
        assert code == 0
        message = search_message(predicate(("status", "eq", "active")), by_id("NIK", HEAD_NIK))
        r = await client.post(
            "/dci/social/registry/sync/search", json=province.envelope(message), headers=province.headers()
        )
        answers = r.json()["message"]["search_response"]
        assert set(answers[0]["data"]["reg_records"][0]) == {
            "@type",
            "address",
            "poverty_score",
            "status",
            "group_size",
        }
        assert answers[1]["status_reason_code"] == "rjct.search_criteria.invalid"
        assert HEAD_NIK not in r.text
