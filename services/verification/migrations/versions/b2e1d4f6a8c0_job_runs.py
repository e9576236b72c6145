"""job runs of the scheduler

Revision ID: b2e1d4f6a8c0
Revises: 933d1321b30f
Create Date: 2026-12-05 20:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b2e1d4f6a8c0"
down_revision: str | None = "933d1321b30f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("job", sa.String(length=100), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("runner", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_job_run_job_started", "job_run", ["job", "started_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_job_run_job_started", table_name="job_run")
    op.drop_table("job_run")
