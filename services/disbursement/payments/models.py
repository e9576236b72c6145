"""Payment lines (penyaluran) and enrolment (kepesertaan) per programme."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    text,
)

from services.disbursement.database import metadata
from shared.db.messaging import BigId

payment_line = Table(
    "payment_line",
    metadata,
    Column("line_id", BigId, primary_key=True, autoincrement=True),
    Column("programme_code", String(30), nullable=False),
    Column("tahap_id", String(36), nullable=False),
    Column("household_id", String(100), nullable=False),
    Column("kecamatan_code", String(20), nullable=False),
    Column("kelurahan_code", String(20), nullable=False),
    # The registry member the money is for (from the read model when the line was made; follows a recipient
    # change while the line is unpaid). NULL for lines made before the registry named recipients.
    Column("recipient_member_id", String(36), nullable=True),
    Column("amount", BigInteger, nullable=False),
    # planned / spm / sp2d / at_payer / paid / failed / returned / disputed / recovered / on_hold / cancelled
    Column("status", String(20), nullable=False),
    # The status a held line returns to when released.
    Column("held_from", String(20), nullable=True),
    Column("hold_reason", String(40), nullable=True),
    Column("failure_reason", String(40), nullable=True),
    Column("paid_amount", BigInteger, nullable=True),
    Column("paid_on", Date, nullable=True),
    Column("returned_amount", BigInteger, nullable=True),
    Column("returned_on", Date, nullable=True),
    Column("payer_reference", String(100), nullable=True),
    Column("decided_by", String(200), nullable=True),
    Column("decision_reason", String(500), nullable=True),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The money guard: one line per family per programme per tahap, whatever the application does. tahap_id
    # leads so that the same index serves every per-tahap query. No index covers status: a status change then
    # touches no index and, with the free room left in each page (fillfactor 50 on PostgreSQL, set in the
    # migration), stays a HOT update even when a payer report moves 250,000 lines at once.
    UniqueConstraint("tahap_id", "household_id", "programme_code", name="uq_payment_line"),
    Index("ix_payment_line_household", "household_id"),
)

enrolment = Table(
    "enrolment",
    metadata,
    Column("programme_code", String(30), nullable=False),
    Column("household_id", String(100), nullable=False),
    # active / ended
    Column("status", String(20), nullable=False),
    Column("reason", String(40), nullable=False),
    Column("tahap_id", String(36), nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("programme_code", "household_id", name="pk_enrolment"),
)
