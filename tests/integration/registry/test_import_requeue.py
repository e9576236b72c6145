"""A row the correction queue already holds is not queued again by the next import of the same file, whichever of
its No. KK and NIK the file left unreadable (NULL matches NULL), on PostgreSQL and on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.registry.app import create_app
from services.registry.imports.models import correction
from services.registry.settings import RegistrySettings
from shared.auth.principal import Role
from shared.auth.tokens import ensure_dev_keys
from shared.bus.local import LocalBus
from tests.integration.registry.helpers import Api, kk, nik
from tests.integration.registry.import_support import csv_text, row, submit
from tests.support.api import running
from tests.support.infra import Infra, create_database, drop_database

HEAD, CHILD = "kepala_keluarga", "anak"


@pytest.fixture(params=["postgresql", "sqlite"])
async def api(request: pytest.FixtureRequest, infra: Infra, tmp_path: Path) -> AsyncIterator[tuple[Api, Any]]:
    """A verifikator's API and the runtime of a registry on PostgreSQL or in the embedded mode (SQLite)."""
    ensure_dev_keys(tmp_path)
    common: dict[str, Any] = {"data_dir": tmp_path, "run_workers": False}
    database = None
    if request.param == "postgresql":
        database = await create_database(infra, "t")
        settings = RegistrySettings(
            **common, database_url=infra.service_url("registry", database), bus="kafka", auto_migrate=True
        )
        app = create_app(settings)
    else:
        settings = RegistrySettings(**common, bus="local")
        app = create_app(settings, bus=LocalBus())
    try:
        async with running(app) as client:
            yield Api(client, settings.data_dir, Role.VERIFIKATOR), app.state.runtime
    finally:
        if database is not None:
            await drop_database(infra, database)


async def test_a_queued_row_is_not_queued_again(api: tuple[Api, Any]) -> None:
    verifikator, runtime = api
    text = csv_text(
        [
            row(kk(1), nik(1), "Budi", HEAD),
            row(kk(1), "137101150580001", "Oki", CHILD),  # 15 digits: No. KK and NIK kept
            row(kk(2), nik(2), "Dedi", HEAD),
            row("1371", nik(3), "Eka", HEAD),  # the No. KK unreadable: kept as NULL, the NIK kept
        ]
    )
    text += "1371010101150003,13.71.01.1001\n"  # too few columns: neither No. KK nor NIK kept
    first = await submit(verifikator, "/imports/extracts", text)
    assert first["status"] == "succeeded", first

    async def queue() -> list[tuple[Any, ...]]:
        async with runtime.sessions() as s:
            rows = await s.execute(
                select(correction.c.row_no, correction.c.no_kk, correction.c.nik, correction.c.rule).order_by(
                    correction.c.id
                )
            )
            return [tuple(r) for r in rows]

    queued = await queue()
    assert [(no_kk, nik_) for _, no_kk, nik_, _ in queued] == [
        (kk(1), "137101150580001"),
        (None, nik(3)),
        (None, None),
    ]
    again = await submit(verifikator, "/imports/extracts", text)
    assert again["status"] == "succeeded", again
    assert again["counts"]["rows_queued"] == 0
    assert await queue() == queued
