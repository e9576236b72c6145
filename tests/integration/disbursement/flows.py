"""Scenario steps shared by the PostgreSQL and SQLite tests (same service functions, both databases)."""

from __future__ import annotations

from typing import Any

from tests.integration.disbursement.conftest import Service
from tests.integration.disbursement.support import SIMPLE_RULE, csv_bytes


async def add_rule(svc: Service, programme: str = "SEMBAKO", **definition: Any) -> int:
    """Store a rule version for the programme; returns its version."""
    body = {**SIMPLE_RULE, "definition": {**SIMPLE_RULE["definition"], **definition}}
    r = await svc.client.post(f"/programmes/{programme}/rules", json=body, headers=svc.users["prep"])
    assert r.status_code == 201, r.text
    return int(r.json()["version"])


async def new_tahap(svc: Service, label: str, version: int, programme: str = "SEMBAKO") -> str:
    """A draft tahap; returns its id."""
    body = {"programme_code": programme, "label": label, "as_of": "2026-03-01", "rule_version": version}
    r = await svc.client.post("/tahap", json=body, headers=svc.users["prep"])
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def generate(svc: Service, tahap_id: str) -> dict[str, Any]:
    """Generate the list as the preparer."""
    r = await svc.client.post(f"/tahap/{tahap_id}/generate", headers=svc.users["prep"])
    assert r.status_code == 200, r.text
    return dict(r.json())


async def approve(svc: Service, tahap_id: str) -> None:
    """Approve as the kepala dinas."""
    r = await svc.client.post(f"/tahap/{tahap_id}/approve", headers=svc.users["kadis"])
    assert r.status_code == 200, r.text


async def lines(svc: Service, tahap_id: str) -> dict[str, dict[str, Any]]:
    """All lines of a tahap by household id (kota view)."""
    r = await svc.client.get(f"/tahap/{tahap_id}/payment-lines?limit=1000", headers=svc.users["prep"])
    assert r.status_code == 200, r.text
    return {x["household_id"]: x for x in r.json()}


async def upload(svc: Service, tahap_id: str, rows: list[dict[str, Any]], source: str = "bank") -> dict[str, Any]:
    """Import a payer CSV as the bank's system client."""
    files = {"file": ("report.csv", csv_bytes(rows), "text/csv")}
    r = await svc.client.post(
        f"/tahap/{tahap_id}/payer-reports", files=files, data={"source": source}, headers=svc.users["system"]
    )
    assert r.status_code == 201, r.text
    return dict(r.json())
