"""Tables every service owns: for reliable messaging (outbox, inbox, dead letters, probe receipts) and the
tamper-evident audit log."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from shared.audit.chain import define_audit_table

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True)
class MessagingTables:
    """The outbox, inbox and dead-letter tables of one service's metadata."""

    outbox: Table
    inbox: Table
    dead_letter: Table
    probe_receipt: Table
    audit_log: Table
    job_run: Table


def define_messaging_tables(metadata: MetaData) -> MessagingTables:
    """Declare the messaging tables on a service's metadata (each service has its own copy)."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("event_type", String(100), nullable=False),
        Column("schema_version", Integer, nullable=False, server_default=text("1")),
        Column("subject", String(100), nullable=False),
        Column("aggregate_version", BigInteger, nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
        Column("correlation_id", String(100), nullable=True),
        Column("causation_id", String(36), nullable=True),
        Column("data", Text, nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True),
        # The relay only ever scans unpublished rows; a partial index keeps that scan tiny.
        Index(
            "ix_outbox_unpublished",
            "id",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("event_id", String(36), primary_key=True),
        Column("topic", String(200), nullable=False),
        Column("event_type", String(100), nullable=False),
        Column("subject", String(100), nullable=False),
        Column("partition", Integer, nullable=True),
        Column("offset", BigInteger, nullable=True),
        Column("status", String(20), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False),
    )
    dead_letter = Table(
        "dead_letter",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=True),
        Column("topic", String(200), nullable=False),
        Column("partition", Integer, nullable=True),
        Column("offset", BigInteger, nullable=True),
        Column("payload", Text, nullable=False),
        Column("error", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("failed_at", DateTime(timezone=True), nullable=False),
        Column("replayed_at", DateTime(timezone=True), nullable=True),
    )
    # Append-only on purpose (no unique key): a duplicate delivery that slipped past the inbox would show
    # up here as a second row, which is what the pipeline canary and the fault tests look for.
    probe_receipt = Table(
        "probe_receipt",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, index=True),
        Column("source", String(50), nullable=False),
        Column("sequence", BigInteger, nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False),
    )
    # One row per scheduled job run (shared/runtime/scheduler.py): when, by whom, what it did or why it failed.
    job_run = Table(
        "job_run",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("job", String(100), nullable=False),
        Column("trigger", String(20), nullable=False),
        Column("runner", String(200), nullable=False),
        Column("status", String(20), nullable=False),
        Column("started_at", DateTime(timezone=True), nullable=False),
        Column("finished_at", DateTime(timezone=True), nullable=True),
        Column("counts", Text, nullable=True),
        Column("error", Text, nullable=True),
        Index("ix_job_run_job_started", "job", "started_at"),
    )
    return MessagingTables(
        outbox=outbox,
        inbox=inbox,
        dead_letter=dead_letter,
        probe_receipt=probe_receipt,
        audit_log=define_audit_table(metadata),
        job_run=job_run,
    )
