"""family.recipient_member_id: the member who receives the assistance (the head unless replaced)

Revision ID: f5b2c8d1e4a7
Revises: d3c1a0f5e9b2
Create Date: 2026-12-06 01:15:00

Backfilled to the active member whose NIK is the head NIK. A family without such a member keeps NULL, which
the registry reads as "the head" (the same fallback covers families a bulk import writes).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f5b2c8d1e4a7"
down_revision: str | None = "d3c1a0f5e9b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("family") as batch:
        batch.add_column(sa.Column("recipient_member_id", _id(36), nullable=True))
    op.execute(
        "UPDATE family SET recipient_member_id = ("
        " SELECT m.id FROM member m WHERE m.family_id = family.id AND m.nik = family.head_nik AND m.active"
        " ORDER BY m.id LIMIT 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table("family") as batch:
        batch.drop_column("recipient_member_id")
