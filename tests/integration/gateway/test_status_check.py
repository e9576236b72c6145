"""The public status check (Cek Bansos) in embedded mode: a beneficiary sees programme, tahap and payment status;
an unknown person gets the same shape and no quicker answer; lookups are rate-limited per address and audited by
hash, never with the NIK in clear."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from shared.auth.principal import Role
from tests.integration.disbursement.support import SIMPLE_RULE
from tests.integration.registry.helpers import kk, nik
from tests.integration.registry.import_support import KEL, csv_text, row
from tests.support.api import auth, running
from tests.support.cluster import Cluster, service_cluster
from tests.support.infra import Infra
from tests.support.waiting import wait_for

MIN_MS = 300


class Clock:
    """The rate limiter's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _beneficiaries(client: httpx.AsyncClient, data_dir: Path) -> str:
    """Import two families, list them in an approved SEMBAKO tahap; returns the tahap label."""
    verifikator = auth(data_dir, Role.VERIFIKATOR, subject="prep")
    kadis = auth(data_dir, Role.KEPALA_DINAS, subject="kadis")
    extract = csv_text(
        [
            row(kk(21), nik(21), "Budi Santoso", "kepala_keluarga"),
            row(kk(21), nik(22), "Sari Wulandari", "istri"),
            row(kk(23), nik(23), "Kiki Amelia", "kepala_keluarga", desil="9"),
        ]
    )
    files = {"file": ("extract.csv", extract.encode(), "text/csv")}
    r = await client.post("/api/registry/imports/extracts", files=files, headers=verifikator)
    assert r.status_code == 202, r.text
    job_url = f"/api/registry/imports/{r.json()['id']}"

    async def job() -> str:
        return str((await client.get(job_url, headers=verifikator)).json()["status"])

    assert await wait_for(job, lambda s: s in ("succeeded", "failed"), timeout=60) == "succeeded"
    r = await client.post("/api/disbursement/programmes/SEMBAKO/rules", json=SIMPLE_RULE, headers=verifikator)
    assert r.status_code == 201, r.text
    body = {"programme_code": "SEMBAKO", "label": "2026-I", "as_of": "2026-03-01", "rule_version": r.json()["version"]}
    r = await client.post("/api/disbursement/tahap", json=body, headers=verifikator)
    assert r.status_code == 201, r.text
    tahap_id = r.json()["id"]

    async def generated() -> int:
        resp = await client.post(f"/api/disbursement/tahap/{tahap_id}/generate", headers=verifikator)
        assert resp.status_code == 200, resp.text
        return int(resp.json()["listed_count"])

    # The families reach disbursement through the in-process bus: generate until both desil-3 members' KK is in.
    assert await wait_for(generated, lambda n: n == 1, timeout=60) == 1
    r = await client.post(f"/api/disbursement/tahap/{tahap_id}/approve", headers=kadis)
    assert r.status_code == 200, r.text
    return "2026-I"


async def _ask(client: httpx.AsyncClient, body: dict[str, Any]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await client.post("/cek-bansos/status", json=body)
    return response, time.monotonic() - started


async def test_status_check_answers_beneficiaries_and_hides_everyone_else(tmp_path: Path) -> None:
    clock = Clock()
    settings = GatewaySettings(
        data_dir=tmp_path, status_check_min_ms=MIN_MS, status_check_per_minute=2, status_check_burst=20
    )
    app = create_app(settings, clock=clock)
    async with running(app) as client:
        label = await _beneficiaries(client, tmp_path)
        page = await client.get("/cek-bansos/")
        assert page.status_code == 200
        assert "Cek Bansos" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]

        listed = {"programme_code": "SEMBAKO", "tahap": label, "payment_status": "scheduled"}
        known = [
            {"name": "Budi Santoso", "kelurahan_code": KEL},
            {"name": "  budi   SANTOSO ", "kelurahan_code": KEL},  # case and spacing do not matter
            {"name": "Sari Wulandari", "nik": nik(22)},  # any member of the family
        ]
        unknown = [
            {"name": "Budi Santoso", "kelurahan_code": "13.71.02.1001"},  # wrong kelurahan
            {"name": "Budi Santosa", "nik": nik(21)},  # NIK with another name
            {"name": "Tidak Ada", "nik": nik(99)},
            {"name": "Kiki Amelia", "kelurahan_code": KEL},  # registered, not a beneficiary (desil 9)
        ]
        for body in known:
            r, took = await _ask(client, body)
            assert (r.status_code, r.json()) == (200, {"programmes": [listed]}), body
            assert took >= MIN_MS / 1000
        shapes = set()
        for body in unknown:
            r, took = await _ask(client, body)
            assert (r.status_code, r.json()) == (200, {"programmes": []}), body
            assert took >= MIN_MS / 1000  # no quicker than a hit: the minimum covers both
            shapes.add((tuple(sorted(r.headers.keys())), tuple(r.json())))
        assert len(shapes) == 1

        bad = await client.post("/cek-bansos/status", json={"name": "Budi", "nik": "123", "kelurahan_code": KEL})
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert {e["field"] for e in bad.json()["errors"]} >= {"nik"}

    # Every lookup is in the registry's audit chain by the hash of its query; no NIK, no name in clear.
    with sqlite3.connect(tmp_path / "registry.db") as db:
        audits = db.execute(
            "SELECT actor, role, record_id, after FROM audit_log WHERE action = 'status_check' ORDER BY seq"
        ).fetchall()
    assert len(audits) == len(known) + len(unknown)
    assert {(a[0], a[1]) for a in audits} == {("gateway-status-check", "system")}
    assert all(len(a[2]) == 64 for a in audits)
    assert audits[0][2] == audits[1][2]  # the same query, normalised, has the same hash
    dump = json.dumps(audits)
    for secret in (nik(21), nik(22), nik(99), "Budi", "Sari", "Kiki"):
        assert secret not in dump
    assert [json.loads(a[3])["matches"] for a in audits] == [1, 1, 1, 0, 0, 0, 1]


async def test_status_check_is_rate_limited_per_address(tmp_path: Path) -> None:
    clock = Clock()
    settings = GatewaySettings(
        data_dir=tmp_path, status_check_min_ms=0, status_check_per_minute=2, status_check_burst=3
    )
    app = create_app(settings, clock=clock)
    async with running(app) as client:
        body = {"name": "Tidak Ada", "kelurahan_code": KEL}
        answers = [(await client.post("/cek-bansos/status", json=body)).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        limited = await client.post("/cek-bansos/status", json=body)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["code"] == "rate_limited"
        clock.now += 30  # two per minute: one more after 30 s
        assert (await client.post("/cek-bansos/status", json=body)).status_code == 200
        assert (await client.post("/cek-bansos/status", json=body)).status_code == 429
        # Authenticated API traffic is not charged to the status-check bucket.
        assert (await client.get("/api/registry/healthz")).status_code == 200


@pytest.fixture
async def cluster(pg_settings: Any, infra: Infra, tmp_path: Path) -> AsyncIterator[Cluster]:
    """The three services as separate processes on PostgreSQL and Kafka."""
    async with service_cluster(pg_settings, infra, tmp_path) as running_cluster:
        yield running_cluster


@pytest.mark.infra
async def test_status_check_in_distributed_mode_on_postgres(cluster: Cluster, tmp_path: Path) -> None:
    settings = GatewaySettings(
        mode="distributed",
        data_dir=tmp_path,
        registry_url=cluster.url("registry"),
        verification_url=cluster.url("verification"),
        disbursement_url=cluster.url("disbursement"),
        status_check_min_ms=MIN_MS,
    )
    async with running(create_app(settings)) as client:
        label = await _beneficiaries(client, tmp_path)
        hit, took_hit = await _ask(client, {"name": "sari wulandari", "nik": nik(22)})
        miss, took_miss = await _ask(client, {"name": "Sari Wulandari", "nik": nik(98)})
        assert hit.json() == {
            "programmes": [{"programme_code": "SEMBAKO", "tahap": label, "payment_status": "scheduled"}]
        }
        assert (miss.status_code, miss.json()) == (200, {"programmes": []})
        assert min(took_hit, took_miss) >= MIN_MS / 1000
