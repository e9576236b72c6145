"""identifier columns collate C, staging indexes without the job id

Revision ID: b41c0de5a7e1
Revises: 950178174ea0
Create Date: 2026-11-28 16:45:00.000000

Uuids, NIKs and No. KKs are identifiers: byte order is their natural order, and PostgreSQL only sorts text with
abbreviated keys under the C collation (index builds and joins over a city's NIKs run 2-3x faster). SQLite has
no such collation and needs nothing. Imports run one at a time on emptied staging tables, so their indexes need
no job id in front.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b41c0de5a7e1"
down_revision: str | None = "950178174ea0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Parents before children: a foreign key column follows the key it references.
COLUMNS: dict[str, tuple[tuple[str, int], ...]] = {
    "family": (("id", 36), ("no_kk", 16), ("head_nik", 16)),
    "member": (("id", 36), ("family_id", 36), ("nik", 16)),
    "family_history": (("family_id", 36), ("member_id", 36)),
    "personal_data_access": (("family_id", 36), ("member_id", 36)),
    "desil_snapshot": (("family_id", 36),),
    "flag": (("family_id", 36), ("member_id", 36), ("subject_key", 36)),
    "import_job": (("id", 36),),
    "import_error": (("import_id", 36), ("no_kk", 32)),
    "import_row": (("import_id", 36), ("no_kk", 16), ("nik", 16)),
    "import_family": (("import_id", 36), ("no_kk", 16), ("family_id", 36), ("head_nik", 16)),
    "import_list_row": (("import_id", 36), ("nik", 16)),
    "import_event": (("import_id", 36), ("family_id", 36), ("member_id", 36)),
    "import_scope": (("import_id", 36), ("family_id", 36)),
    "import_flag": (("import_id", 36), ("family_id", 36), ("member_id", 36), ("subject_key", 36)),
}


def _alter(collation: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in COLUMNS.items():
        changes = ", ".join(f'ALTER COLUMN {c} TYPE varchar({n}) COLLATE "{collation}"' for c, n in columns)
        op.execute(f"ALTER TABLE {table} {changes}")


# name, table, columns before, columns after
STAGING_INDEXES = (
    ("ix_import_row_kk", "import_row", ["import_id", "no_kk"], ["no_kk"]),
    ("ix_import_family_kk", "import_family", ["import_id", "no_kk"], ["no_kk"]),
    ("ix_import_family_id", "import_family", ["import_id", "family_id"], ["family_id"]),
    ("ix_import_event_family", "import_event", ["import_id", "family_id", "id"], ["family_id", "id"]),
)


def _reindex(*, narrow: bool) -> None:
    for name, table, before, after in STAGING_INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, after if narrow else before)


def upgrade() -> None:
    _alter("C")
    _reindex(narrow=True)


def downgrade() -> None:
    _reindex(narrow=False)
    _alter("default")
