"""officer: no_registered_family (the four-eyes rule needs the officer's family known, not assumed absent)

Revision ID: 5b1e7c2d9a40
Revises: a1d17c4e9b03
Create Date: 2026-12-05 19:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b1e7c2d9a40"
down_revision: str | None = "a1d17c4e9b03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("no_registered_family", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.drop_column("no_registered_family")
