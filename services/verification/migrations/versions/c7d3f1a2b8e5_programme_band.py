"""programme band: desil bands of published rule versions

Revision ID: c7d3f1a2b8e5
Revises: d6f3b9a1c5e8
Create Date: 2026-12-06 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c7d3f1a2b8e5"
down_revision: str | None = "d6f3b9a1c5e8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "programme_band",
        sa.Column("programme_code", sa.String(length=50), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("desil_min", sa.Integer(), nullable=False),
        sa.Column("desil_max", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("programme_code", "version", name="pk_programme_band"),
    )


def downgrade() -> None:
    op.drop_table("programme_band")
