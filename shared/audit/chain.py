"""The tamper-evident audit log every service keeps: append-only, each entry hash-chained to the previous one.

An entry's hash covers its own fields and the previous entry's hash, so editing, deleting or reordering any row
breaks every hash after it; `verify_chain` reports the first broken link.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, Text, event, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.elements import TextClause

from shared.events.envelope import utcnow

GENESIS = "0" * 64
_WROTE = "tepat_wrote"
_AUDITED = "tepat_audited"
_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "MERGE", "COPY")
_FIELDS = (
    "seq",
    "at",
    "actor",
    "role",
    "action",
    "record_type",
    "record_id",
    "purpose",
    "before",
    "after",
    "request_id",
)


def define_audit_table(metadata: MetaData) -> Table:
    """Declare the audit_log table on a service's metadata."""
    return Table(
        "audit_log",
        metadata,
        Column("seq", BigInteger, primary_key=True, autoincrement=False),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("actor", String(200), nullable=False),
        Column("role", String(50), nullable=False),
        Column("action", String(200), nullable=False),
        Column("record_type", String(100), nullable=False),
        Column("record_id", String(200), nullable=True),
        Column("purpose", String(500), nullable=True),
        Column("before", Text, nullable=True),
        Column("after", Text, nullable=True),
        Column("request_id", String(100), nullable=True),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
    )


def _canonical(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def _iso(at: datetime) -> str:
    # SQLite returns naive datetimes; hash the same text whichever database stored the row.
    return at.replace(tzinfo=None).isoformat(timespec="microseconds")


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """sha256 over the previous hash and the entry's fields in a fixed order."""
    parts = [prev_hash] + [
        _iso(fields[f]) if f == "at" else ("" if fields[f] is None else str(fields[f])) for f in _FIELDS
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    """Where the chain stops being trustworthy, and why."""

    seq: int
    reason: str


class AuditLog:
    """Appends to and verifies one service's audit log."""

    def __init__(self, table: Table) -> None:
        self.table = table

    async def record(
        self,
        session: AsyncSession,
        *,
        actor: str,
        role: str,
        action: str,
        record_type: str,
        record_id: str | None = None,
        purpose: str | None = None,
        before: Any = None,
        after: Any = None,
        request_id: str | None = None,
    ) -> int:
        """Append one entry inside the caller's transaction; returns its sequence number."""
        if session.bind.dialect.name == "postgresql":
            # One writer at a time per service: the chain must be linear. Held until this transaction ends.
            await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('tepat-audit-chain'))"))
        t = self.table
        last = (await session.execute(select(t.c.seq, t.c.hash).order_by(t.c.seq.desc()).limit(1))).first()
        seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
        fields = {
            "seq": seq,
            "at": utcnow(),
            "actor": actor,
            "role": role,
            "action": action,
            "record_type": record_type,
            "record_id": record_id,
            "purpose": purpose,
            "before": _canonical(before),
            "after": _canonical(after),
            "request_id": request_id,
        }
        await session.execute(t.insert().values(**fields, prev_hash=prev, hash=entry_hash(prev, fields)))
        session.sync_session.info[_AUDITED] = True
        return seq

    async def verify(self, session: AsyncSession, *, batch: int = 5000) -> tuple[int, BrokenLink | None]:
        """Walk the whole chain in order; returns (entries checked, first broken link or None)."""
        t = self.table
        prev, expected_seq, checked = GENESIS, 1, 0
        while True:
            rows: Sequence[Any] = (
                await session.execute(select(t).where(t.c.seq >= expected_seq).order_by(t.c.seq).limit(batch))
            ).all()
            if not rows:
                return checked, None
            for row in rows:
                if row.seq != expected_seq:
                    return checked, BrokenLink(expected_seq, f"entry {expected_seq} is missing")
                if row.prev_hash != prev:
                    return checked, BrokenLink(row.seq, "prev_hash does not match the previous entry")
                if entry_hash(prev, row._mapping) != row.hash:
                    return checked, BrokenLink(row.seq, "entry was altered after it was written")
                prev, expected_seq, checked = row.hash, expected_seq + 1, checked + 1


def wrote(session: AsyncSession) -> bool:
    """Did this session's transaction run a statement that changes data?"""
    return bool(session.sync_session.info.get(_WROTE))


def audited(session: AsyncSession) -> bool:
    """Did this session's transaction already write an explicit audit entry?"""
    return bool(session.sync_session.info.get(_AUDITED))


def mark_written(session: AsyncSession) -> None:
    """Record that the transaction changed data by a path the statement hook cannot see (raw driver calls)."""
    session.sync_session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _track_writes(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True
    elif isinstance(state.statement, TextClause):
        verb = state.statement.text.lstrip().split(None, 1)[0].upper() if state.statement.text.strip() else ""
        if verb in _WRITE_VERBS or verb == "WITH":
            state.session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _reset(session: Session) -> None:
    session.info.pop(_WROTE, None)
    session.info.pop(_AUDITED, None)
