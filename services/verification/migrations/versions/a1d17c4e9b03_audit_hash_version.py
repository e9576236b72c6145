"""audit log: hash_version (encoding 2 distinguishes NULL from '' and types; existing rows stay encoding 1)

Revision ID: a1d17c4e9b03
Revises: b2e1d4f6a8c0
Create Date: 2026-12-05 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1d17c4e9b03"
down_revision: str | None = "b2e1d4f6a8c0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nothing is rehashed: rows written so far keep encoding 1 and still verify; the first signed checkpoint
    # after this migration anchors them as they are (shared/audit/chain.py).
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("hash_version", sa.SmallInteger(), server_default=sa.text("1"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("hash_version")
