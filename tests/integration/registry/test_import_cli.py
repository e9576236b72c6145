"""`tepat import-extract` and `tepat import-list` against the configured database, with a progress bar."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from demo.generator import generate_city
from services.registry.families.models import family, flag
from tests.integration.registry.conftest import Registry

pytestmark = pytest.mark.infra


async def _tepat(registry: Registry, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "TEPAT_REGISTRY_DATABASE_URL": registry.runtime.settings.resolved_database_url,
        "TEPAT_REGISTRY_DATA_DIR": str(registry.data_dir),
    }
    return await tepat_in(env, *args)


async def tepat_in(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """`python -m services.cli ARGS` in a subprocess with `env`: exit code, stdout, stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


async def test_cli_imports_a_small_city(registry: Registry, tmp_path: Path) -> None:
    generate_city(tmp_path, families_count=60, seed=3)
    code, out, err = await _tepat(registry, "import-extract", str(tmp_path / "extract.csv"))
    assert code == 0, err
    job = json.loads(out)
    assert job["status"] == "succeeded"
    assert "rows/s" in err
    async with registry.runtime.sessions() as s:
        n = int((await s.execute(select(func.count()).select_from(family))).scalar_one())
    assert n == job["counts"]["families_inserted"] > 50
    code, out, err = await _tepat(registry, "import-list", "death", str(tmp_path / "death_list.csv"))
    assert code == 0, err
    raised = json.loads(out)["counts"]["flags_raised"]
    async with registry.runtime.sessions() as s:
        assert (
            int((await s.execute(select(func.count()).where(flag.c.kind == "deceased_dukcapil"))).scalar_one())
            == raised
        )
    code, _, err = await _tepat(registry, "import-extract", str(tmp_path / "missing.csv"))
    assert code == 2
    assert "no such file" in err
