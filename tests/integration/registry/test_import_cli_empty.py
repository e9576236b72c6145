"""`tepat import-extract` and `tepat import-list` on an empty data folder (embedded mode) migrate first, as
`tepat serve` does, instead of failing on a missing table."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from demo.generator import generate_city
from services.registry.imports.progress import EXTRACT_PHASES, LIST_PHASES
from tests.integration.registry.test_import_cli import tepat_in


async def _tepat(data_dir: Path, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEPAT_")} | {
        "TEPAT_REGISTRY_DATA_DIR": str(data_dir)
    }
    return await tepat_in(env, *args)


async def test_import_commands_migrate_an_empty_data_folder(tmp_path: Path) -> None:
    generate_city(tmp_path / "city", families_count=20, seed=3)
    for kind, args in (
        ("list", ("import-list", "death", str(tmp_path / "city" / "death_list.csv"))),
        ("extract", ("import-extract", str(tmp_path / "city" / "extract.csv"))),
    ):
        data_dir = tmp_path / f"data-{kind}"
        data_dir.mkdir()
        rc, out, err = await _tepat(data_dir, *args)
        assert rc == 0, err
        assert "Traceback" not in err
        assert "no such table" not in err
        job = json.loads(out)
        assert job["status"] == "succeeded"
        phases = [p["phase"] for p in job["progress"]["phases"]]
        assert phases == (list(EXTRACT_PHASES) if kind == "extract" else list(LIST_PHASES))
        for step, name in enumerate(phases, start=1):  # a progress line per phase on stderr
            assert f"[{step}/{len(phases)}] {name}" in err
        with sqlite3.connect(data_dir / "registry.db") as db:
            (jobs,) = db.execute("SELECT count(*) FROM import_job WHERE status = 'succeeded'").fetchone()
        assert jobs == 1
