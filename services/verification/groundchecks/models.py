"""Field officers and ground checks (verifikasi lapangan)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
    text,
    true,
)

from services.verification.database import metadata
from shared.db.messaging import BigId

officer = Table(
    "officer",
    metadata,
    Column("subject", String(100), primary_key=True),
    Column("role", String(30), nullable=False),
    Column("wilayah_code", String(20), nullable=False),
    # The officer's NIK as a keyed digest (shared/privacy/digest.py) and masked for display, never in clear: the
    # four-eyes rule finds the officer's own family(ies) by it in the read model of the registry's events. Without
    # it the officer may not approve.
    Column("nik_digest", String(64), nullable=True),
    Column("nik_masked", String(16), nullable=True),
    # The dinas declares the officer belongs to no registered family; accepted only while the read model finds
    # none. Without a family found or this declaration, approval is refused rather than the rule skipped.
    Column("no_registered_family", Boolean, nullable=False, server_default=false()),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("updated_by", String(100), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_officer_role_wilayah", "role", "wilayah_code"),
)

# A check is "open" (not finished) in these states; at most one open check per (family, reason).
OPEN_STATES = ("open", "assigned", "visited")
OPEN_PREDICATE = "status IN ('open', 'assigned', 'visited')"

ground_check = Table(
    "ground_check",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("household_id", String(100), nullable=True),  # NULL only for a new-family usulan not yet registered
    Column("kecamatan_code", String(20), nullable=False),
    Column("kelurahan_code", String(20), nullable=False),
    Column("reason", String(40), nullable=False),
    Column("origin_ref", String(100), nullable=True),
    Column("campaign_id", BigInteger, nullable=True),
    Column("status", String(20), nullable=False),
    Column("assigned_to", String(100), nullable=True),
    Column("assigned_role", String(30), nullable=True),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("visited_at", DateTime(timezone=True), nullable=True),
    Column("submitted_by", String(100), nullable=True),
    Column("submitted_role", String(30), nullable=True),
    Column("outcome", String(20), nullable=True),
    Column("outcome_reason", String(40), nullable=True),
    Column("questionnaire", Text, nullable=True),
    Column("gps_lat", Float, nullable=True),
    Column("gps_lon", Float, nullable=True),
    # How sure the phone was of the position (metres), as it reported it.
    Column("gps_accuracy_m", Float, nullable=True),
    Column("photos", Text, nullable=True),
    Column("evidence_hash", String(64), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decided_by", String(100), nullable=True),
    Column("review_comment", Text, nullable=True),
    Column("returned_count", Integer, nullable=False, server_default=text("0")),
    Column("cancel_reason", String(200), nullable=True),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Index(
        "ux_ground_check_open",
        "household_id",
        "reason",
        unique=True,
        postgresql_where=text(OPEN_PREDICATE),
        sqlite_where=text(OPEN_PREDICATE),
    ),
    Index("ix_ground_check_kelurahan_status", "kelurahan_code", "status"),
    Index("ix_ground_check_assignee_status", "assigned_to", "status"),
    Index("ix_ground_check_household_decided", "household_id", "decided_at"),
    Index("ix_ground_check_campaign", "campaign_id"),
)

# Payment failures for families the read model does not know yet: the payment topic and the household topic are
# not ordered against each other, so such an event waits here until the family's first event arrives.
parked_payment_failure = Table(
    "parked_payment_failure",
    metadata,
    Column("line_id", String(100), primary_key=True),
    Column("household_id", String(100), nullable=False, index=True),
    Column("failure_reason", String(50), nullable=False),
    Column("parked_at", DateTime(timezone=True), nullable=False),
)
