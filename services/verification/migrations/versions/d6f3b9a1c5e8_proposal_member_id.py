"""proposal.member_id: the proposed recipient of a recipient_change usulan (issue 12 item 4)

Revision ID: d6f3b9a1c5e8
Revises: c5f1a9e3b7d2
Create Date: 2026-12-06 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d6f3b9a1c5e8"
down_revision: str | None = "c5f1a9e3b7d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("proposal") as batch:
        batch.add_column(sa.Column("member_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("proposal") as batch:
        batch.drop_column("member_id")
