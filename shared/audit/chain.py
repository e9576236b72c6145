"""The tamper-evident audit log every service keeps: append-only, each entry hash-chained to the previous one.

An entry's hash covers its own fields and the previous entry's hash, so editing, deleting or reordering any row
breaks every hash after it; `AuditLog.verify` reports the first broken link. Signed checkpoints (`anchor.py`)
anchor the chain against whoever can rewrite the whole table: a deleted tail, an emptied table or a chain
recomputed forward after an edit no longer matches them.

Encoding versions (`hash_version`): 1, the rows written before checkpoints existed, hashed the fields joined by
a separator, so NULL and '' hashed the same; 2 hashes a JSON array of the version, the previous hash and the
typed fields (NULL is `null`, '' is `""`). Rows keep the version they were written with (the migration adds the
column with 1 for existing rows, nothing is rehashed); a version-1 row after a version-2 row is a downgrade and
breaks the chain, and the first signed checkpoint after the migration anchors the version-1 rows as they were.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    event,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.sql.elements import TextClause

from shared.audit.anchor import Anchor, Checkpoint, signature_valid
from shared.audit.coverage import COVERS, check_reference
from shared.events.envelope import utcnow

log = logging.getLogger(__name__)

GENESIS = "0" * 64
HASH_VERSION = 2
_WROTE = "tepat_wrote"
_AUDITED = "tepat_audited"
_SEQS = "tepat_audit_seqs"
_HEAD = "tepat_audit_head"
# Each service's chain lives in its own schema, so the lock is keyed by the schema: services sharing a database
# never wait for each other's entries (one key for all of them made every audited write of one service wait out,
# say, the commit of another's import).
_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('tepat-audit-chain:' || current_schema()))")
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
        Column("hash_version", SmallInteger, nullable=False, server_default=text("1")),
    )


def _canonical(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def _iso(at: datetime) -> str:
    # SQLite returns naive datetimes; hash the same text whichever database stored the row.
    return at.replace(tzinfo=None).isoformat(timespec="microseconds")


def entry_hash(prev_hash: str, fields: Mapping[str, Any], version: int | None = None) -> str:
    """sha256 over the previous hash and the entry's fields in a fixed order, in the entry's encoding version."""
    version = version if version is not None else int(fields.get("hash_version") or HASH_VERSION)
    if version == 1:
        parts = [prev_hash] + [
            _iso(fields[f]) if f == "at" else ("" if fields[f] is None else str(fields[f])) for f in _FIELDS
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    if version != 2:
        raise ValueError(f"unknown audit hash version {version}")
    # JSON keeps what a joined string lost: null is not "", 7 is not "7".
    values = [version, prev_hash] + [
        _iso(fields[f]) if f == "at" else (int(fields[f]) if f == "seq" else fields[f]) for f in _FIELDS
    ]
    encoded = json.dumps(values, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    """Where the chain stops being trustworthy, and why."""

    seq: int
    reason: str


@dataclass(frozen=True)
class ChainStatus:
    """The outcome of a walk: entries checked, the first broken link, and how far signed checkpoints reach."""

    checked: int
    broken: BrokenLink | None
    last_seq: int
    head: str
    anchored_seq: int | None = None
    anchored_at: str | None = None
    checkpoints: int = 0

    @property
    def unanchored(self) -> int:
        """Entries after the newest signed checkpoint (deleting them would go unnoticed until the next one)."""
        return self.last_seq - (self.anchored_seq or 0)


class AuditChainBroken(Exception):
    """Raised instead of signing a checkpoint over a broken chain."""

    def __init__(self, broken: BrokenLink) -> None:
        super().__init__(f"audit chain broken at entry {broken.seq}: {broken.reason}")
        self.broken = broken


class AuditLog:
    """Appends to and verifies one service's audit log; with an anchor, signs and checks its checkpoints."""

    def __init__(self, table: Table, anchor: Anchor | None = None) -> None:
        self.table = table
        self.anchor = anchor
        self._checkpointing = asyncio.Lock()
        # Built once per log: every audited request runs them, and a reused statement keeps its cache key.
        self._insert = table.insert()
        self._newest = select(table.c.seq, table.c.hash).order_by(table.c.seq.desc()).limit(1)
        head = self._newest.cte("head")
        self._newest_as_write = select(head.c.seq, head.c.hash)

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
        info = session.sync_session.info
        head: tuple[int, str] | None = info.get(_HEAD)
        if head is None:
            newest = self._newest
            if session.bind.dialect.name == "postgresql":
                # One writer at a time per service: the chain must be linear. Held until this transaction ends.
                await session.execute(_LOCK)
            else:
                # Read as a WITH statement, which the embedded writer gate (shared/db/sqlite_writers.py) counts as
                # a write: the gate is held from this read to the commit, so no other writer of the process can
                # append between the head read here and the INSERT below.
                newest = self._newest_as_write
            last = (await session.execute(newest)).first()
            head = (last.seq, last.hash) if last else (0, GENESIS)
        # Else this transaction appended the last entry and still holds the lock (SQLite: its write lock), so
        # nobody appended since: the next link needs no second lock and no second read.
        seq, prev = head[0] + 1, head[1]
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
        digest = entry_hash(prev, fields, HASH_VERSION)
        row = {**fields, "prev_hash": prev, "hash": digest, "hash_version": HASH_VERSION}
        await session.execute(self._insert, row)
        info[_HEAD] = (seq, digest)
        info[_AUDITED] = True
        first = info.get(_SEQS, (seq, seq))[0]
        info[_SEQS] = (first, seq)
        return seq

    async def verify(self, session: AsyncSession, *, batch: int = 5000) -> tuple[int, BrokenLink | None]:
        """Walk the whole chain in order; returns (entries checked, first broken link or None)."""
        status = await self.status(session, batch=batch)
        return status.checked, status.broken

    async def status(self, session: AsyncSession, *, batch: int = 5000) -> ChainStatus:
        """Walk the whole chain against the signed checkpoints (if the service has an anchor)."""
        checkpoints, broken = self._checkpoints()
        walked = await self._walk(session, checkpoints=checkpoints, batch=batch)
        if broken is not None:
            walked = _with_broken(walked, broken)
        if walked.broken is None and checkpoints:
            newest = max(checkpoints.values(), key=lambda c: c.seq)
            if newest.seq > walked.last_seq:
                missing = BrokenLink(
                    walked.last_seq + 1,
                    f"entries {walked.last_seq + 1}..{newest.seq} are missing: the signed checkpoint of "
                    f"{newest.at} counted {newest.count} entries (truncated or deleted)",
                )
                walked = _with_broken(walked, missing)
        if checkpoints:
            reached = [c for c in checkpoints.values() if c.seq <= walked.last_seq]
            newest_reached = max(reached, key=lambda c: c.seq) if reached else None
            return ChainStatus(
                checked=walked.checked,
                broken=walked.broken,
                last_seq=walked.last_seq,
                head=walked.head,
                anchored_seq=newest_reached.seq if newest_reached else None,
                anchored_at=newest_reached.at if newest_reached else None,
                checkpoints=len(checkpoints),
            )
        return walked

    def _checkpoints(self) -> tuple[dict[int, Checkpoint], BrokenLink | None]:
        """The published checkpoints by sequence number, and a broken link if one of them cannot be trusted."""
        if self.anchor is None:
            return {}, None
        try:
            published = self.anchor.checkpoints.read()
        except ValueError as exc:
            return {}, BrokenLink(0, str(exc))
        if not published:
            return {}, None
        public_key = self.anchor.public_key()
        if public_key is None:
            return {}, BrokenLink(0, f"checkpoints exist but the public key {self.anchor.public_key_path} is missing")
        by_seq: dict[int, Checkpoint] = {}
        for cp in published:
            if cp.service != self.anchor.service or not signature_valid(cp, public_key) or cp.count != cp.seq:
                return {}, BrokenLink(cp.seq, f"the checkpoint of {cp.at} has no valid signature")
            if cp.seq in by_seq and by_seq[cp.seq].head != cp.head:
                return {}, BrokenLink(cp.seq, "two signed checkpoints disagree on this entry")
            by_seq[cp.seq] = cp
        return by_seq, None

    async def _walk(
        self,
        session: AsyncSession,
        *,
        checkpoints: Mapping[int, Checkpoint],
        start_seq: int = 1,
        prev: str = GENESIS,
        batch: int = 5000,
    ) -> ChainStatus:
        t = self.table
        expected_seq, checked, version = start_seq, 0, 1

        def done(broken: BrokenLink | None = None) -> ChainStatus:
            return ChainStatus(checked=checked, broken=broken, last_seq=expected_seq - 1, head=prev)

        while True:
            rows: Sequence[Any] = (
                await session.execute(select(t).where(t.c.seq >= expected_seq).order_by(t.c.seq).limit(batch))
            ).all()
            if not rows:
                return done()
            for row in rows:
                if row.seq != expected_seq:
                    return done(BrokenLink(expected_seq, f"entry {expected_seq} is missing"))
                if row.prev_hash != prev:
                    return done(BrokenLink(row.seq, "prev_hash does not match the previous entry"))
                if row.hash_version < version:
                    return done(BrokenLink(row.seq, "entry hashed in an older encoding after a newer one"))
                version = row.hash_version
                try:
                    intact = entry_hash(prev, row._mapping, row.hash_version) == row.hash
                except ValueError:
                    intact = False
                if not intact:
                    return done(BrokenLink(row.seq, "entry was altered after it was written"))
                cp = checkpoints.get(row.seq)
                if cp is not None and cp.head != row.hash:
                    return done(
                        BrokenLink(
                            row.seq,
                            f"the chain differs from the signed checkpoint of {cp.at}: "
                            "entries up to here were rewritten",
                        )
                    )
                if row.after is not None and COVERS in row.after:
                    wrong = await check_reference(session, self.table.metadata, row.after)
                    if wrong is not None:
                        return done(BrokenLink(row.seq, wrong))
                prev, expected_seq, checked = row.hash, expected_seq + 1, checked + 1

    async def write_checkpoint(self, sessions: async_sessionmaker[AsyncSession]) -> Checkpoint | None:
        """Sign and publish the committed head, after checking the entries since the previous checkpoint.

        Returns None when nothing was added since the last checkpoint; raises AuditChainBroken rather than sign
        a chain that does not verify (a signature must never launder an edit)."""
        if self.anchor is None:
            raise RuntimeError("this audit log has no anchor (signing key and checkpoint file)")
        async with self._checkpointing, sessions() as session:
            checkpoints, broken = self._checkpoints()
            if broken is not None:
                raise AuditChainBroken(broken)
            newest = max(checkpoints.values(), key=lambda c: c.seq) if checkpoints else None
            t = self.table
            head = (await session.execute(self._newest)).first()
            last_seq = int(head.seq) if head else 0
            if newest is not None:
                if last_seq < newest.seq:
                    raise AuditChainBroken(BrokenLink(last_seq + 1, "entries covered by a checkpoint are missing"))
                at_cp = (await session.execute(select(t.c.hash).where(t.c.seq == newest.seq))).scalar()
                if at_cp != newest.head:
                    raise AuditChainBroken(BrokenLink(newest.seq, "the chain differs from the signed checkpoint"))
                if last_seq == newest.seq:
                    return None
                walked = await self._walk(session, checkpoints={}, start_seq=newest.seq + 1, prev=newest.head)
            else:
                if head is None:
                    return None
                walked = await self._walk(session, checkpoints={})
            if walked.broken is not None:
                raise AuditChainBroken(walked.broken)
            # Sequence numbers run 1..n without a gap (the walk checked that), so the head's is the count.
            checkpoint = self.anchor.signed(seq=walked.last_seq, head=walked.head, count=walked.last_seq, at=utcnow())
        await self.anchor.publish(checkpoint)
        return checkpoint

    async def checkpoint_if_due(self, sessions: async_sessionmaker[AsyncSession], seqs: tuple[int, int]) -> None:
        """After a commit that wrote entries seqs[0]..seqs[1]: checkpoint when they crossed the interval.

        Never fails the caller (its transaction is committed): a chain that cannot be signed is logged."""
        if self.anchor is None or not self.anchor.due(*seqs):
            return
        await self.checkpoint_quietly(sessions)

    async def checkpoint_quietly(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """`write_checkpoint`, logging instead of raising (for callers whose work is already committed)."""
        try:
            await self.write_checkpoint(sessions)
        except Exception:
            log.exception("audit checkpoint of %s not written", self.table.name)


def _with_broken(status: ChainStatus, broken: BrokenLink) -> ChainStatus:
    return ChainStatus(
        checked=status.checked,
        broken=broken if status.broken is None or broken.seq <= status.broken.seq else status.broken,
        last_seq=status.last_seq,
        head=status.head,
    )


def recorded_seqs(session: AsyncSession) -> tuple[int, int] | None:
    """The first and last audit entry this session's transaction wrote (None: none yet)."""
    seqs: tuple[int, int] | None = session.sync_session.info.get(_SEQS)
    return seqs


def wrote(session: AsyncSession) -> bool:
    """Did this session's transaction run a statement that changes data?"""
    return bool(session.sync_session.info.get(_WROTE))


def audited(session: AsyncSession) -> bool:
    """Did this session's transaction already write an explicit audit entry?"""
    return bool(session.sync_session.info.get(_AUDITED))


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
    session.info.pop(_SEQS, None)
    session.info.pop(_HEAD, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_head(session: Session, transaction: SessionTransaction) -> None:
    # A savepoint that ended may have rolled back the entry the head names: read the chain again next time.
    if transaction.nested:
        session.info.pop(_HEAD, None)
