"""Complaints (pengaduan) and the actions they started."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Index, Integer, String, Table, Text, false, text

from services.verification.database import metadata
from shared.db.messaging import BigId

complaint = Table(
    "complaint",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("reference", String(20), nullable=False, unique=True),
    Column("channel", String(30), nullable=False),
    Column("category", String(30), nullable=False),
    Column("status", String(20), nullable=False),
    Column("kecamatan_code", String(20), nullable=False),
    Column("kelurahan_code", String(20), nullable=False),
    # Links by id only: the family and member (registry), the payment line and tahap (disbursement), a sanggah.
    Column("household_id", String(100), nullable=True),
    Column("member_id", String(36), nullable=True),
    Column("payment_line_id", BigInteger, nullable=True),
    Column("tahap_code", String(50), nullable=True),
    Column("objection_id", BigInteger, nullable=True),
    Column("external_ref", String(100), nullable=True),  # the LAPOR! case number or the gateway's message id
    Column("description", Text, nullable=False),
    # Personal data of the complainant: shown masked, read in full only through the audited contact route.
    Column("anonymous", Boolean, nullable=False, server_default=false()),
    Column("contact_name", String(200), nullable=True),
    Column("contact_phone", String(40), nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("escalation_level", Integer, nullable=False, server_default=text("0")),
    Column("escalated_at", DateTime(timezone=True), nullable=True),
    Column("assigned_to", String(100), nullable=True),
    Column("assigned_at", DateTime(timezone=True), nullable=True),
    Column("ground_check_id", BigInteger, nullable=True),
    Column("proposal_id", BigInteger, nullable=True),
    Column("referral", String(40), nullable=True),  # a payment action asked of disbursement
    Column("close_reason", String(40), nullable=True),
    Column("close_note", Text, nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("closed_by", String(100), nullable=True),
    Column("recorded_by", String(100), nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Index("ix_complaint_status_due", "status", "due_at"),
    Index("ix_complaint_kelurahan_status", "kelurahan_code", "status"),
    Index("ix_complaint_household", "household_id"),
)
