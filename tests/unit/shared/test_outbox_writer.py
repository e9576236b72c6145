"""OutboxWriter.add_selected: bulk events in one INSERT … SELECT, on a real SQLite database (embedded mode)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Select, String, Table, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from shared.db.dialect import json_text, numbered_uuids
from shared.db.messaging import define_messaging_tables
from shared.events.envelope import utcnow
from shared.outbox.writer import OutboxWriter

_metadata = MetaData()
_messaging = define_messaging_tables(_metadata)
_line = Table("line", _metadata, Column("id", String(10), primary_key=True), Column("version", Integer))
WRITER = OutboxWriter(source="unit", table=_messaging.outbox)


@pytest.fixture
async def session() -> AsyncIterator[AsyncSession]:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(_metadata.create_all)
        await conn.execute(insert(_line), [{"id": i, "version": v} for i, v in (("b", 2), ("a", 1), ("c", 7))])
    async with async_sessionmaker(engine)() as s:
        yield s
    await engine.dispose()


def _events(*, with_data: bool = True) -> Select[Any]:
    now = utcnow()
    columns = [
        numbered_uuids(False).label("event_id"),
        literal("unit.line.v1").label("topic"),
        literal("line.changed").label("event_type"),
        _line.c.id.label("subject"),
        _line.c.version.label("aggregate_version"),
        literal(now).label("occurred_at"),
        literal(now).label("recorded_at"),
    ]
    if with_data:
        columns.append(json_text(False, "line_id", _line.c.id, "version", _line.c.version).label("data"))
    return select(*columns).order_by(_line.c.id)


async def test_one_event_per_row_in_the_query_order(session: AsyncSession) -> None:
    async with session.begin():
        assert await WRITER.add_selected(session, _events()) == 3
    out = _messaging.outbox
    rows = (await session.execute(select(out.c.subject, out.c.aggregate_version, out.c.data).order_by(out.c.id))).all()
    assert [(r.subject, r.aggregate_version) for r in rows] == [("a", 1), ("b", 2), ("c", 7)]
    assert json.loads(rows[2].data) == {"line_id": "c", "version": 7}


async def test_a_query_without_a_required_column_is_refused(session: AsyncSession) -> None:
    async with session.begin():
        with pytest.raises(ValueError, match=r"missing columns \['data'\]"):
            await WRITER.add_selected(session, _events(with_data=False))
        assert (await session.execute(select(_messaging.outbox.c.id))).first() is None
