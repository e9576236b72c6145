"""visit gps accuracy

Revision ID: c5f1a9e3b7d2
Revises: b4e7a2c9d1f0
Create Date: 2026-12-06 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c5f1a9e3b7d2"
down_revision: str | None = "b4e7a2c9d1f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ground_check") as batch:
        batch.add_column(sa.Column("gps_accuracy_m", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ground_check") as batch:
        batch.drop_column("gps_accuracy_m")
