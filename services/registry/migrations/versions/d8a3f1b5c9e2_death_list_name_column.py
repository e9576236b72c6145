"""death list: the listed name and whether it matches the registered member

Revision ID: d8a3f1b5c9e2
Revises: e3a9c1d5f702
Create Date: 2026-12-05 20:30:00.000000

A death-list entry is checked against the member before it becomes a deceased_dukcapil flag (issue 12 §3): the
optional `nama` column of the list is staged, and whether it names the member is written next to it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d8a3f1b5c9e2"
down_revision: str | None = "e3a9c1d5f702"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("import_list_row", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("name_mismatch", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("import_list_row", schema=None) as batch_op:
        batch_op.drop_column("name_mismatch")
        batch_op.drop_column("name")
