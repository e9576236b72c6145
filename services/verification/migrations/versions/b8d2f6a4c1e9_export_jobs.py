"""export jobs: large CSV/XLSX exports written in the background, with progress

Revision ID: b8d2f6a4c1e9
Revises: c7d3f1a2b8e5
Create Date: 2026-12-06 03:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b8d2f6a4c1e9"
down_revision: str | None = "c7d3f1a2b8e5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "export_job",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rows_written", sa.BigInteger(), nullable=False),
        sa.Column("rows_total", sa.BigInteger(), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("requested_role", sa.String(length=40), nullable=False),
        sa.Column("wilayah", sa.String(length=20), nullable=False),
        sa.Column("permission", sa.String(length=100), nullable=False),
        sa.Column("file_path", sa.Text(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_export_job_requested_by", "export_job", ["requested_by", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_export_job_requested_by", table_name="export_job")
    op.drop_table("export_job")
