"""officer NIK digest and the read model's member digests: the four-eyes rule finds the approver's family in the
registry's data, not in a household_id someone typed into the officer record

Officers registered before this revision have no NIK digest: they may not approve ground checks (409
approver_family_unknown) until the kepala dinas registers their NIK again.

Revision ID: e2a8c4f61b93
Revises: b8d2f6a4c1e9
Create Date: 2026-12-06 03:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e2a8c4f61b93"
down_revision: str | None = "b8d2f6a4c1e9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "household_member_digest",
        sa.Column("household_id", sa.String(length=100), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("household_id", "digest"),
    )
    op.create_index("ix_household_member_digest_digest", "household_member_digest", ["digest"], unique=False)
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nik_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("nik_masked", sa.String(length=16), nullable=True))
        batch_op.drop_column("household_id")


def downgrade() -> None:
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("household_id", sa.String(length=100), nullable=True))
        batch_op.drop_column("nik_masked")
        batch_op.drop_column("nik_digest")
    op.drop_index("ix_household_member_digest_digest", table_name="household_member_digest")
    op.drop_table("household_member_digest")
