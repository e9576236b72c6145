"""dci callbacks and subscriptions

Revision ID: a7c3e9d1f5b4
Revises: a9e4c2f7d1b3
Create Date: 2026-12-06 03:10:00.000000

The rest of the DCI Social Registry interface: async requests keep their message until answered
(dci_transaction.pending_message / callback_uri), callbacks to partners are an outbox of deliveries with retries
and a dead-letter state (dci_callback), and partners' subscriptions (dci_subscription).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c3e9d1f5b4"
down_revision: str | None = "a9e4c2f7d1b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dci_transaction") as batch:
        batch.add_column(sa.Column("pending_message", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("callback_uri", sa.Text(), nullable=True))
    op.create_table(
        "dci_callback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("sender_id", sa.String(99), nullable=False),
        sa.Column("message_id", sa.String(99), nullable=False, unique=True),
        sa.Column("correlation_id", sa.String(36), nullable=True),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("family_id", sa.String(36), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_dci_callback_due", "dci_callback", ["status", "next_attempt_at"])
    op.create_index("ix_dci_callback_family", "dci_callback", ["sender_id", "family_id", "id"])
    op.create_index("ix_dci_callback_correlation", "dci_callback", ["correlation_id"])
    op.create_table(
        "dci_subscription",
        sa.Column("code", sa.String(36), primary_key=True),
        sa.Column("sender_id", sa.String(99), nullable=False),
        sa.Column("reference_id", sa.String(99), nullable=False),
        sa.Column("reg_event_type", sa.String(100), nullable=False),
        sa.Column("filter_type", sa.String(20), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_dci_subscription_sender", "dci_subscription", ["sender_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_dci_subscription_sender", table_name="dci_subscription")
    op.drop_table("dci_subscription")
    op.drop_index("ix_dci_callback_correlation", table_name="dci_callback")
    op.drop_index("ix_dci_callback_family", table_name="dci_callback")
    op.drop_index("ix_dci_callback_due", table_name="dci_callback")
    op.drop_table("dci_callback")
    with op.batch_alter_table("dci_transaction") as batch:
        batch.drop_column("callback_uri")
        batch.drop_column("pending_message")
