"""correction queue and the staging table of rows kept out of the member table

Revision ID: e3a9c1d5f702
Revises: d4a1f0c2b3e5
Create Date: 2026-12-05 19:30:00.000000

An extract row that fails validation (or that the merge sets aside: a duplicate NIK, a conflicting copy of a
KK) no longer takes its family with it: it waits in `correction` until someone fixes or dismisses it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e3a9c1d5f702"
down_revision: str | None = "d4a1f0c2b3e5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "correction",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("import_id", _id(36), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("field", sa.String(length=50), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("no_kk", _id(50), nullable=True),
        sa.Column("nik", _id(50), nullable=True),
        sa.Column("family_id", _id(36), nullable=True),
        sa.Column("kelurahan_code", sa.String(length=20), nullable=True),
        sa.Column("kecamatan_code", sa.String(length=20), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="open", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("resolved_role", sa.String(length=30), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_reason", sa.String(length=500), nullable=True),
        sa.Column("member_id", _id(36), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_correction_status_kecamatan", "correction", ["status", "kecamatan_code"])
    op.create_index("ix_correction_family", "correction", ["family_id"])
    op.create_index("ix_correction_key", "correction", ["no_kk", "nik", "rule"])
    op.create_table(
        "import_bad_row",
        sa.Column("import_id", _id(36), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("no_kk", _id(16), nullable=True),
        sa.Column("nik", _id(50), nullable=True),
        sa.Column("relationship", sa.String(length=50), nullable=True),
        sa.Column("kelurahan_code", sa.String(length=20), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
    )
    op.create_index("ix_import_bad_row_kk", "import_bad_row", ["no_kk"])
    if op.get_bind().dialect.name == "postgresql":
        # Staging, like the other import_* tables: emptied by every job, never worth a WAL record.
        op.execute("ALTER TABLE import_bad_row SET UNLOGGED")


def downgrade() -> None:
    op.drop_index("ix_import_bad_row_kk", table_name="import_bad_row")
    op.drop_table("import_bad_row")
    op.drop_index("ix_correction_key", table_name="correction")
    op.drop_index("ix_correction_family", table_name="correction")
    op.drop_index("ix_correction_status_kecamatan", table_name="correction")
    op.drop_table("correction")
