"""The gateway in embedded mode: one process, three services mounted, one API document."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from shared.auth.principal import Role
from tests.integration.registry.helpers import kk, nik
from tests.integration.registry.import_support import csv_text, row
from tests.support.api import auth, running
from tests.support.waiting import wait_for


async def test_health_of_all_four_through_the_gateway(tmp_path: Path) -> None:
    app = create_app(GatewaySettings(data_dir=tmp_path))
    async with running(app) as client:
        gateway = await client.get("/healthz")
        assert gateway.json() == {"status": "ok", "service": "gateway", "mode": "embedded"}
        for name in ("registry", "verification", "disbursement"):
            r = await client.get(f"/api/{name}/healthz")
            assert r.status_code == 200
            assert r.json()["service"] == name
            ready = await client.get(f"/api/{name}/readyz")
            assert ready.json()["checks"] == {"database": True, "bus": True}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["services"] == {"registry": True, "verification": True, "disbursement": True}
    for name in ("registry", "verification", "disbursement"):
        assert (tmp_path / f"{name}.db").exists()


async def test_request_id_is_kept_or_created_and_errors_are_problems(tmp_path: Path) -> None:
    app = create_app(GatewaySettings(data_dir=tmp_path))
    async with running(app) as client:
        r = await client.get("/api/registry/healthz", headers={"X-Request-ID": "abc-123"})
        assert r.headers["x-request-id"] == "abc-123"
        assert r.headers["x-correlation-id"] == "abc-123"
        created = (await client.get("/healthz")).headers["x-request-id"]
        assert len(created) == 32

        assert (await client.get("/api/registry/nowhere")).status_code == 401  # no token: nothing is revealed
        missing = await client.get("/api/registry/nowhere", headers=auth(tmp_path, Role.VERIFIKATOR))
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert missing.json()["status"] == 404

        no_token = await client.post("/api/registry/ops/probe")
        assert no_token.status_code == 401
        assert no_token.headers["www-authenticate"] == "Bearer"

        bad_query = await client.post("/api/registry/ops/probe?count=0", headers=auth(tmp_path, Role.SYSTEM))
        assert bad_query.status_code == 422
        body = bad_query.json()
        assert body["errors"][0]["field"] == "count"
        assert "greater than or equal to 1" in body["errors"][0]["reason"]
        assert "Traceback" not in bad_query.text

        forbidden = await client.post("/api/registry/ops/probe", headers=auth(tmp_path, Role.TKSK, "13.71.01"))
        assert forbidden.status_code == 403


async def test_probe_crosses_from_one_service_to_the_others_in_process(tmp_path: Path) -> None:
    app = create_app(GatewaySettings(data_dir=tmp_path))
    headers = auth(tmp_path, Role.SYSTEM)
    async with running(app) as client:
        r = await client.post("/api/registry/ops/probe?count=3", headers=headers)
        assert r.status_code == 202

        async def received(service: str) -> int:
            resp: httpx.Response = await client.get(f"/api/{service}/ops/probe", headers=headers)
            return int(resp.json()["received"])

        assert await wait_for(lambda: received("verification"), lambda n: n == 3) == 3
        assert await wait_for(lambda: received("disbursement"), lambda n: n == 3) == 3
        assert await received("registry") == 3  # the registry consumes its own probes too


async def test_combined_openapi_lists_every_service(tmp_path: Path) -> None:
    app = create_app(GatewaySettings(data_dir=tmp_path))
    async with running(app) as client:
        doc = (await client.get("/openapi.json")).json()
        for name in ("registry", "verification", "disbursement"):
            assert f"/api/{name}/healthz" in doc["paths"]
            assert f"/api/{name}/ops/probe" in doc["paths"]
        assert (await client.get("/docs")).status_code == 200


async def test_a_new_rule_version_reaches_verification_as_its_desil_band(tmp_path: Path) -> None:
    app = create_app(GatewaySettings(data_dir=tmp_path))
    prep = auth(tmp_path, Role.VERIFIKATOR, subject="prep")
    rule: dict[str, Any] = {
        "effective_from": "2025-01-01",
        "definition": {"desil_min": 1, "desil_max": 3, "amount": {"kind": "flat", "amount": 1}},
    }
    async with running(app) as client:
        programme = {"code": "BANDTEST", "name": "Band test", "unit": "family", "periodicity": "monthly"}
        r = await client.post("/api/disbursement/programmes", json={**programme, "channel": "pos"}, headers=prep)
        assert r.status_code == 201, r.text
        for desil_max in (3, 6):
            body = {**rule, "definition": {**rule["definition"], "desil_max": desil_max}}
            r = await client.post("/api/disbursement/programmes/BANDTEST/rules", json=body, headers=prep)
            assert r.status_code == 201, r.text

        def bands() -> list[tuple[int, int]]:
            with sqlite3.connect(tmp_path / "verification.db") as db:
                sql = "SELECT version, desil_max FROM programme_band WHERE programme_code = 'BANDTEST' ORDER BY 1"
                return [(int(v), int(m)) for v, m in db.execute(sql)]

        async def seen() -> list[tuple[int, int]]:
            return bands()

        assert await wait_for(seen, lambda rows: len(rows) == 2) == [(1, 3), (2, 6)]


async def test_a_nik_on_two_kk_opens_a_ground_check_for_each_family_with_the_kecamatan_tksk(tmp_path: Path) -> None:
    app = create_app(GatewaySettings(data_dir=tmp_path))
    verifikator = auth(tmp_path, Role.VERIFIKATOR, subject="verif-1")
    kadis = auth(tmp_path, Role.KEPALA_DINAS, subject="kadis")
    shared_nik = nik(2, day="55", yy="85")
    extract = csv_text(
        [
            row(kk(1), nik(1), "Budi", "kepala_keluarga"),
            row(kk(1), shared_nik, "Sari", "istri"),
            row(kk(5), nik(9), "Iwan", "kepala_keluarga"),
            row(kk(5), shared_nik, "Sari", "famili_lain"),
            row(kk(7), nik(12), "Kiki", "kepala_keluarga"),
        ]
    )
    async with running(app) as client:
        officer = {"subject": "tksk-a", "role": "tksk", "wilayah_code": "13.71.01"}
        r = await client.put("/api/verification/officers/tksk-a", json=officer, headers=kadis)
        assert r.status_code in (200, 201), r.text
        files = {"file": ("extract.csv", extract.encode(), "text/csv")}
        r = await client.post("/api/registry/imports/extracts", files=files, headers=verifikator)
        assert r.status_code == 202, r.text
        job_url = f"/api/registry/imports/{r.json()['id']}"

        async def job() -> dict[str, Any]:
            return dict((await client.get(job_url, headers=verifikator)).json())

        done = await wait_for(job, lambda j: j["status"] in ("succeeded", "failed"), timeout=60)
        assert done["status"] == "succeeded", done

        async def checks() -> list[dict[str, Any]]:
            url = "/api/verification/ground-checks?reason=flag_duplicate_nik&limit=100"
            resp = await client.get(url, headers=verifikator)
            assert resp.status_code == 200, resp.text
            return list(resp.json()["items"])

        found = await wait_for(checks, lambda items: len(items) >= 2, timeout=60)
        expected = [("flag_duplicate_nik", "13.71.01", "tksk-a")] * 2
        assert [(c["reason"], c["kecamatan_code"], c["assigned_to"]) for c in found] == expected
        families = sorted(c["household_id"] for c in found)
        assert len(set(families)) == 2
        for family_id in families:
            detail = await client.get(f"/api/registry/families/{family_id}", headers=verifikator)
            assert detail.status_code == 200, detail.text
            assert "duplicate_nik" in detail.json()["open_flags"]
