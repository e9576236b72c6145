"""A new desil period with the same desil reaches the read models (embedded system: registry → in-process bus →
verification and disbursement), with a new version (issue 16, fault 4: the period moved silently before)."""

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


async def _import(client: httpx.AsyncClient, headers: dict[str, str], text: str) -> dict[str, Any]:
    r = await client.post(
        "/api/registry/imports/extracts", files={"file": ("x.csv", text.encode(), "text/csv")}, headers=headers
    )
    assert r.status_code == 202, r.text

    async def job() -> dict[str, Any]:
        data: dict[str, Any] = (await client.get(f"/api/registry/imports/{r.json()['id']}", headers=headers)).json()
        return data

    return await wait_for(job, lambda j: j["status"] in ("succeeded", "failed"), timeout=60)


def _read_models(data_dir: Path) -> tuple[Any, Any]:
    with sqlite3.connect(data_dir / "verification.db") as v, sqlite3.connect(data_dir / "disbursement.db") as d:
        return (
            v.execute("SELECT desil, desil_period, version FROM household").fetchall(),
            d.execute("SELECT desil, desil_period, version FROM household_status").fetchall(),
        )


async def test_a_new_period_with_the_same_desil_reaches_the_read_models(tmp_path: Path) -> None:
    app = create_app(GatewaySettings(data_dir=tmp_path))
    headers = auth(tmp_path, Role.VERIFIKATOR)
    rows = [row(kk(51), nik(51), "Rahmat", "kepala_keluarga", desil="3", periode_desil="2026-Q1")]
    async with running(app) as client:
        assert (await _import(client, headers, csv_text(rows)))["status"] == "succeeded"
        await wait_for(lambda: _async(_read_models, tmp_path), lambda m: m == ([(3, "2026-Q1", 1)],) * 2)
        again = await _import(client, headers, csv_text([{**rows[0], "periode_desil": "2026-Q2"}]))
        assert again["counts"]["events_emitted"] == 1
        await wait_for(lambda: _async(_read_models, tmp_path), lambda m: m == ([(3, "2026-Q2", 2)],) * 2)


async def _async(fn: Any, *args: Any) -> Any:
    return fn(*args)
