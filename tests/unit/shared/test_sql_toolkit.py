"""The shared SQL toolkit (shared/db): each helper run on a real SQLite database, and compiled for PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, create_mock_engine, insert, literal, select
from sqlalchemy.engine import Connection, Dialect

from shared.db.dialect import insert_on, job_uuid, json_object, json_text, numbered_uuids
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


def _pg() -> Dialect:
    """The PostgreSQL dialect, to read the SQL a statement renders there (no server needed)."""
    return create_mock_engine("postgresql://", executor=lambda *_args, **_kw: None).dialect


def _codes_within(conn: Connection, wilayah: str) -> list[str]:
    return sorted(conn.execute(select(_area.c.code).where(within(_area.c.code, wilayah))).scalars())


def test_within_matches_on_code_boundaries(conn: Connection) -> None:
    assert _codes_within(conn, "13.71.01") == ["13.71.01", "13.71.01.1001"]
    assert _codes_within(conn, "13.71") == ["13.71", "13.71.01", "13.71.01.1001", "13.71.011", "13.71.02.1001"]
    assert _codes_within(conn, "13.71.01.1001") == ["13.71.01.1001"]
    assert _codes_within(conn, "13.72") == []


_seen = Table(
    "seen",
    _metadata,
    Column("key", String(20), primary_key=True),
    Column("note", String(40)),
)


def test_insert_on_sqlite_skips_and_updates_on_conflict(conn: Connection) -> None:
    conn.execute(insert_on(False, _seen).values(key="a", note="first").on_conflict_do_nothing())
    conn.execute(insert_on(False, _seen).values(key="a", note="second").on_conflict_do_nothing())
    assert conn.execute(select(_seen.c.note)).scalars().all() == ["first"]
    upsert = insert_on(False, _seen).values(key="a", note="third")
    conn.execute(upsert.on_conflict_do_update(index_elements=["key"], set_={"note": upsert.excluded.note}))
    assert conn.execute(select(_seen.c.note)).scalars().all() == ["third"]


def test_insert_on_postgresql_renders_on_conflict() -> None:
    stmt = insert_on(True, _seen).values(key="a", note="n").on_conflict_do_nothing(index_elements=["key"])
    assert "ON CONFLICT (key) DO NOTHING" in str(stmt.compile(dialect=_pg()))


def test_json_object_and_text_on_sqlite(conn: Connection) -> None:
    values = conn.execute(select(json_text(False, "code", _area.c.code, "n", literal(2)))).scalars().all()
    assert sorted(json.loads(v)["code"] for v in values) == sorted(CODES)
    assert {json.loads(v)["n"] for v in values} == {2}
    row = conn.execute(select(json_object(False, "k", literal("v")))).scalar_one()
    assert json.loads(row) == {"k": "v"}


def test_json_object_on_postgresql_is_json_build_object_and_text_is_cast() -> None:
    pg = _pg()
    assert "json_build_object(" in str(json_object(True, "k", _area.c.code).compile(dialect=pg))
    assert "CAST(json_build_object(" in str(json_text(True, "k", _area.c.code).compile(dialect=pg))


def test_numbered_uuids_share_a_prefix_and_count_the_rows(conn: Connection) -> None:
    ids = conn.execute(select(numbered_uuids(False).label("id")).select_from(_area)).scalars().all()
    assert len(ids) == len(CODES) == len(set(ids))
    assert {i[:24] for i in ids} == {ids[0][:24]}
    assert sorted(int(i[24:], 16) for i in ids) == list(range(1, len(CODES) + 1))
    uuid.UUID(ids[0])


def test_job_uuids_are_stable_per_job_and_kind(conn: Connection) -> None:
    job = str(uuid.uuid4())

    def ids(kind: str) -> list[str]:
        serial = literal(1) + literal(0)  # a computed serial, like a row number
        return [conn.execute(select(job_uuid(False, job, serial + n, kind))).scalar_one() for n in range(3)]

    plain, family = ids(""), ids("family")
    assert plain == ids("")  # the same job numbers its rows the same way on a retry
    assert all(i.startswith(job[:24]) for i in plain)
    assert [int(i[24:], 16) for i in plain] == [1, 2, 3]
    assert not set(plain) & set(family)
    assert [str(uuid.UUID(i)) for i in family] == family
