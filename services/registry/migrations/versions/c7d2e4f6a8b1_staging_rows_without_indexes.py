"""staging rows without indexes

Revision ID: c7d2e4f6a8b1
Revises: b41c0de5a7e1
Create Date: 2026-11-28 19:40:00.000000

`import_row` only ever holds the running job's rows, and every statement of the merge reads them whole (hash
joins and hash aggregates over the file): its two indexes were built after each load (1.2 s for a Padang-size
extract) and then barely used.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c7d2e4f6a8b1"
down_revision: str | None = "b41c0de5a7e1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (("ix_import_row_kk", "no_kk"), ("ix_import_row_nik", "nik"))


def upgrade() -> None:
    for name, _ in INDEXES:
        op.drop_index(name, table_name="import_row")


def downgrade() -> None:
    for name, column in INDEXES:
        op.create_index(name, "import_row", [column])
