"""import job progress

Revision ID: d4a1f0c2b3e5
Revises: a1d17c4e9b02
Create Date: 2026-12-05 20:25:00.000000

The phases a finished job went through (name, seconds, rows), for the job API.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4a1f0c2b3e5"
down_revision: str | None = "a1d17c4e9b02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("import_job") as batch:
        batch.add_column(sa.Column("progress", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("import_job") as batch:
        batch.drop_column("progress")
