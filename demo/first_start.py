"""`make run` shows a city: on first start with an empty data folder, play the scenario before serving.

The scenario runs against a private embedded gateway on the same data folder (its rate limits lifted: the field
work is one client sending thousands of writes), which is shut down before the served gateway starts, so the two
never share the SQLite files. A data folder that already holds a registry database is left alone.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from demo.scenario import Summary, run_embedded, tksk
from services.gateway.settings import GatewaySettings
from shared.auth.principal import Role
from shared.auth.tokens import PRIVATE_KEY_NAME, ensure_dev_keys, issue_dev_token

DEMO_SEED = 7
# Tahap II's bank file, Pos file and PDF report, under the data folder (so `rm -rf data` starts them over too).
FILES_FOLDER = "demo-files"
TOKEN_TTL_S = 12 * 3600


def has_data(data_dir: Path) -> bool:
    """Has this data folder been used before (a registry database exists)?"""
    return (data_dir / "registry.db").exists()


def load_demo_city(settings: GatewaySettings) -> Summary | None:
    """Play the scenario on an empty embedded data folder; None when disabled, distributed or data is present."""
    if settings.mode != "embedded" or settings.demo_families <= 0 or has_data(settings.data_dir):
        return None
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    print(
        f"First start: loading a demo city of {settings.demo_families:,} synthetic families into "
        f"{settings.data_dir}/ (TEPAT_GATEWAY_DEMO_FAMILIES=0 to start empty) ...",
        flush=True,
    )
    started = time.monotonic()

    def log(text: str) -> None:
        print(f"  {text}", flush=True)

    summary = asyncio.run(
        run_embedded(
            families=settings.demo_families,
            seed=DEMO_SEED,
            data_dir=settings.data_dir,
            log=log,
            files_dir=settings.data_dir / FILES_FOLDER,
        )
    )
    print(summary.render(), flush=True)
    print(f"Demo city loaded in {time.monotonic() - started:.1f} s.", flush=True)
    return summary


def where_to_look(settings: GatewaySettings, base_url: str) -> str:
    """The dashboard URL, ready-made tokens for three people, and how to mint others."""
    ensure_dev_keys(settings.data_dir)
    key = (settings.data_dir / PRIVATE_KEY_NAME).read_bytes()

    def token(subject: str, role: Role, wilayah: str) -> str:
        return issue_dev_token(key, subject=subject, role=role, wilayah=wilayah, ttl_s=TOKEN_TTL_S)

    officer = tksk("13.71.01")
    lines = [
        f"Dashboard: {base_url}/dashboard/   API docs: {base_url}/docs",
        "Paste a token into the dashboard (valid 12 h):",
        f"  verifikator (kota 13.71):      {token('verifikator-demo', Role.VERIFIKATOR, '13.71')}",
        f"  TKSK of 13.71.01 ({officer.subject}): {token(officer.subject, Role.TKSK, officer.wilayah)}",
        f"  auditor (kota 13.71):          {token('auditor-demo', Role.AUDITOR, '13.71')}",
        f"Field app for TKSK and PSM (phone, works offline): {base_url}/lapangan/?token="
        f"{token(officer.subject, Role.TKSK, officer.wilayah)}",
        f"Others: .venv/bin/tepat token --role <role> --wilayah <code> --data-dir {settings.data_dir}",
    ]
    return "\n".join(lines)


def prepare(settings: GatewaySettings, base_url: str) -> None:
    """Load the demo city if this is a first start, then say where to look (called by `tepat serve`)."""
    try:
        load_demo_city(settings)
    except Exception as exc:  # the system must still start; the operator sees why the demo is missing
        print(f"Demo city not loaded: {exc}", file=sys.stderr, flush=True)
    if settings.mode == "embedded":
        print(where_to_look(settings, base_url), flush=True)
