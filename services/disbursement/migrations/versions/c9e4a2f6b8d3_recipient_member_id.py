"""recipient_member_id on the household read model and on payment lines (issue 12 item 4)

Revision ID: c9e4a2f6b8d3
Revises: f19a2c4e6b80
Create Date: 2026-12-06 01:20:00

Both start NULL: the read model fills in with the next household event of each family (every event carries
the recipient), and lines made before this revision name no recipient.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c9e4a2f6b8d3"
down_revision: str | None = "f19a2c4e6b80"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("household_status") as batch:
        batch.add_column(sa.Column("recipient_member_id", sa.String(length=36), nullable=True))
    with op.batch_alter_table("payment_line") as batch:
        batch.add_column(sa.Column("recipient_member_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payment_line") as batch:
        batch.drop_column("recipient_member_id")
    with op.batch_alter_table("household_status") as batch:
        batch.drop_column("recipient_member_id")
