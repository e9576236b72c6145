"""the payment instruction file recorded on the tahap

Revision ID: f19a2c4e6b80
Revises: b4e1c7a9d2f3
Create Date: 2026-12-06 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f19a2c4e6b80"
down_revision: str | None = "b4e1c7a9d2f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("payment_file_kind", sa.String(length=20)),
    ("payment_file_sha256", sa.String(length=64)),
    ("payment_file_count", sa.Integer()),
    ("payment_file_total", sa.BigInteger()),
    ("payment_file_at", sa.DateTime(timezone=True)),
    ("payment_file_by", sa.String(length=200)),
)


def upgrade() -> None:
    with op.batch_alter_table("tahap") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tahap") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
