"""An import job's progress, as its job API reports it while it runs, only moves forward and ends complete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from demo.generator import generate_city
from services.registry.imports.progress import EXTRACT_PHASES
from shared.auth.principal import Role
from tests.integration.registry.conftest import Registry
from tests.support.waiting import wait_for

pytestmark = pytest.mark.infra


async def test_import_progress_moves_forward_to_every_phase(registry: Registry, tmp_path: Path) -> None:
    generate_city(tmp_path, families_count=1500, seed=5)
    api = registry.as_(Role.VERIFIKATOR)
    data = (tmp_path / "extract.csv").read_bytes()
    r = await api.client.post(
        "/imports/extracts", files={"file": ("extract.csv", data, "text/csv")}, headers=api.headers
    )
    assert r.status_code == 202, r.text
    seen: list[dict[str, Any]] = []

    async def status() -> dict[str, Any]:
        job: dict[str, Any] = (await api.get(f"/imports/{r.json()['id']}")).json()
        if job.get("progress"):
            seen.append(job["progress"])
        return job

    job = await wait_for(status, lambda j: j["status"] in ("succeeded", "failed"), timeout=120, every=0.02)
    assert job["status"] == "succeeded", job
    # Where the job is: phases finished, then the current one, then rows read; never backwards.
    positions = [(len(p["phases"]), p["step"] or len(p["phases"]), p["rows_read"]) for p in seen]
    assert positions == sorted(positions)
    final = job["progress"]
    assert [p["phase"] for p in final["phases"]] == list(EXTRACT_PHASES)
    assert final["steps"] == len(EXTRACT_PHASES)
    assert final["rows_read"] == job["counts"]["rows_read"] > 0
