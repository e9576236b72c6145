"""The shared SQL toolkit (shared/db): each helper run on a real SQLite database, and compiled for PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.engine import Connection

from shared.db.expressions import within

_metadata = MetaData()
_area = Table("area", _metadata, Column("code", String(40), primary_key=True))
CODES = ["13.71", "13.71.01", "13.71.01.1001", "13.71.011", "13.71.02.1001", "13.710"]


@pytest.fixture
def conn() -> Iterator[Connection]:
    engine = create_engine("sqlite://")
    with engine.begin() as connection:
        _metadata.create_all(connection)
        connection.execute(insert(_area), [{"code": c} for c in CODES])
        yield connection
    engine.dispose()


def _codes_within(conn: Connection, wilayah: str) -> list[str]:
    return sorted(conn.execute(select(_area.c.code).where(within(_area.c.code, wilayah))).scalars())


def test_within_matches_on_code_boundaries(conn: Connection) -> None:
    assert _codes_within(conn, "13.71.01") == ["13.71.01", "13.71.01.1001"]
    assert _codes_within(conn, "13.71") == ["13.71", "13.71.01", "13.71.01.1001", "13.71.011", "13.71.02.1001"]
    assert _codes_within(conn, "13.71.01.1001") == ["13.71.01.1001"]
    assert _codes_within(conn, "13.72") == []
