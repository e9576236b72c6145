"""dci partners and transactions

Revision ID: d3c1a0f5e9b2
Revises: d8a3f1b5c9e2
Create Date: 2026-12-05 20:10:00.000000

The DCI Social Registry interface: registered partner systems (key, callback URIs, query types, wilayah and
fields they may use) and the transactions they sent (message id unique per sender).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d3c1a0f5e9b2"
down_revision: str | None = "d8a3f1b5c9e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dci_partner",
        sa.Column("sender_id", sa.String(99), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("oauth_subject", sa.String(200), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("callback_uris", sa.JSON(), nullable=False),
        sa.Column("query_types", sa.JSON(), nullable=False),
        sa.Column("wilayah", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "dci_transaction",
        sa.Column("correlation_id", sa.String(36), primary_key=True),
        sa.Column("sender_id", sa.String(99), nullable=False),
        sa.Column("message_id", sa.String(99), nullable=False),
        sa.Column("transaction_id", sa.String(99), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("status", sa.String(4), nullable=False),
        sa.Column("requests", sa.JSON(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("sender_id", "message_id", name="uq_dci_transaction_message"),
    )
    op.create_index("ix_dci_transaction_txn", "dci_transaction", ["sender_id", "transaction_id"])


def downgrade() -> None:
    op.drop_index("ix_dci_transaction_txn", table_name="dci_transaction")
    op.drop_table("dci_transaction")
    op.drop_table("dci_partner")
