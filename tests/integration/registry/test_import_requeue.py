"""A row the correction queue already holds is not queued again by the next import of the same file, whichever of
its No. KK and NIK the file left unreadable (NULL matches NULL), on PostgreSQL and on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.registry.imports.models import correction
from shared.auth.principal import Role
from tests.integration.registry.conftest import registry_on
from tests.integration.registry.helpers import Api, kk, nik
from tests.integration.registry.import_support import csv_text, row, submit
from tests.support.infra import Infra

HEAD, CHILD = "kepala_keluarga", "anak"


@pytest.fixture(params=["postgresql", "sqlite"])
async def api(request: pytest.FixtureRequest, infra: Infra, tmp_path: Path) -> AsyncIterator[tuple[Api, Any]]:
    """A verifikator's API and the runtime of a registry on PostgreSQL or in the embedded mode (SQLite)."""
    async with registry_on(request.param, infra, tmp_path) as (client, runtime, settings):
        yield Api(client, settings.data_dir, Role.VERIFIKATOR), runtime


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
