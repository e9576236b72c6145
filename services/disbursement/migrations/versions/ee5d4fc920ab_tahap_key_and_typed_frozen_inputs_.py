"""tahap key and typed frozen inputs; payment lines keyed by tahap first

Revision ID: ee5d4fc920ab
Revises: 5d13c99bf9e0
Create Date: 2026-11-28 16:46:55.117912

tahap_list is rebuilt: a small integer tahap key instead of the 36-character id, the frozen inputs as typed
columns instead of one JSON document per family (existing lists are copied, their JSON unpacked). payment_line
loses its (tahap_id, status) index and its unique key leads with tahap_id; on PostgreSQL it and the import staging
table keep half of each page free so that status updates stay HOT (no index touched). payer_report_row loses its
line_id index (every reader filters by tahap, which its unique key serves).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ee5d4fc920ab"
down_revision: str | None = "5d13c99bf9e0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMPOSITION = (
    "members",
    "children_0_6",
    "school_sd",
    "school_smp",
    "school_sma",
    "elderly_70",
    "disabled_severe",
    "pregnant",
)
# frozen input → (SQL type on PostgreSQL, default when the JSON lacks it)
INPUTS: dict[str, tuple[str, str | None]] = {
    "data_status": ("text", None),
    "status_reason": ("text", None),
    "desil_period": ("text", None),
    "confirmed_flags": ("text", "''"),
    "open_flags": ("text", "''"),
    "last_outcome": ("text", None),
    "last_verified_at": ("timestamptz", None),
    "registry_version": ("bigint", "0"),
    **{name: ("integer", "0") for name in COMPOSITION},
}
LIST_COLUMNS = ("household_id", "kecamatan_code", "kelurahan_code", "desil", "amount", "list_rank", "listed", "reason")


def _create_list_table() -> None:
    op.create_table(
        "tahap_list",
        sa.Column("tahap_key", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.String(length=100), nullable=False),
        sa.Column("kecamatan_code", sa.String(length=20), nullable=False),
        sa.Column("kelurahan_code", sa.String(length=20), nullable=False),
        sa.Column("desil", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("list_rank", sa.Integer(), nullable=True),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("data_status", sa.String(length=30), nullable=True),
        sa.Column("status_reason", sa.String(length=100), nullable=True),
        sa.Column("desil_period", sa.String(length=20), nullable=True),
        sa.Column("confirmed_flags", sa.String(length=1000), server_default="", nullable=False),
        sa.Column("open_flags", sa.String(length=1000), server_default="", nullable=False),
        sa.Column("last_outcome", sa.String(length=20), nullable=True),
        sa.Column("last_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registry_version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        *(sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False) for name in COMPOSITION),
        sa.PrimaryKeyConstraint("tahap_key", "generation", "household_id", name="pk_tahap_list_key"),
    )
    op.create_index(
        "ix_tahap_list_key_rank",
        "tahap_list",
        ["tahap_key", "generation", "list_rank"],
        postgresql_where=sa.text("list_rank IS NOT NULL"),
        sqlite_where=sa.text("list_rank IS NOT NULL"),
    )


def _unpacked(pg: bool, name: str) -> str:
    sql_type, default = INPUTS[name]
    if pg:
        value = f"(o.inputs::json ->> '{name}')"
        value = value if sql_type == "text" else f"{value}::{sql_type}"
    else:
        value = f"json_extract(o.inputs, '$.{name}')"
    return f"coalesce({value}, {default})" if default is not None else value


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "tahap_key",
        sa.Column("key", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tahap_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["tahap_id"], ["tahap.id"], name="fk_tahap_key_tahap"),
        sa.PrimaryKeyConstraint("key"),
        sa.UniqueConstraint("tahap_id"),
    )
    op.execute("INSERT INTO tahap_key (tahap_id) SELECT id FROM tahap ORDER BY created_at, id")

    op.rename_table("tahap_list", "tahap_list_v1")
    _create_list_table()
    targets = ", ".join(("tahap_key", "generation", *LIST_COLUMNS, *INPUTS))
    values = ", ".join(
        ("k.key", "o.generation", *(f"o.{c}" for c in LIST_COLUMNS), *(_unpacked(pg, n) for n in INPUTS))
    )
    op.execute(
        f"INSERT INTO tahap_list ({targets}) SELECT {values}"
        " FROM tahap_list_v1 o JOIN tahap_key k ON k.tahap_id = o.tahap_id"
    )
    op.drop_table("tahap_list_v1")

    with op.batch_alter_table("payment_line", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_line_tahap_status")
        batch_op.drop_constraint("uq_payment_line", type_="unique")
        batch_op.create_unique_constraint("uq_payment_line", ["tahap_id", "household_id", "programme_code"])
    op.drop_index("ix_payer_report_row_line", table_name="payer_report_row")
    if pg:
        # Room in every page for a new version of each row: status changes of whole tahap stay HOT updates.
        op.execute("ALTER TABLE payment_line SET (fillfactor = 50)")
        op.execute("ALTER TABLE payer_report_staging SET (fillfactor = 50)")


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        op.execute("ALTER TABLE payer_report_staging RESET (fillfactor)")
        op.execute("ALTER TABLE payment_line RESET (fillfactor)")
    op.create_index("ix_payer_report_row_line", "payer_report_row", ["line_id"])
    with op.batch_alter_table("payment_line", schema=None) as batch_op:
        batch_op.drop_constraint("uq_payment_line", type_="unique")
        batch_op.create_unique_constraint("uq_payment_line", ["programme_code", "tahap_id", "household_id"])
        batch_op.create_index("ix_payment_line_tahap_status", ["tahap_id", "status"], unique=False)

    op.rename_table("tahap_list", "tahap_list_v2")
    op.create_table(
        "tahap_list",
        sa.Column("tahap_id", sa.String(length=36), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.String(length=100), nullable=False),
        sa.Column("kecamatan_code", sa.String(length=20), nullable=False),
        sa.Column("kelurahan_code", sa.String(length=20), nullable=False),
        sa.Column("desil", sa.Integer(), nullable=True),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("list_rank", sa.Integer(), nullable=True),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("tahap_id", "generation", "household_id", name="pk_tahap_list"),
    )
    op.create_index("ix_tahap_list_listed", "tahap_list", ["tahap_id", "generation", "listed", "list_rank"])
    frozen = ("data_status", "status_reason", "desil", "desil_period", "confirmed_flags", "open_flags")
    pairs = ", ".join(
        f"'{name}', n.{name}"
        for name in (*frozen, "last_outcome", "last_verified_at", "registry_version", *COMPOSITION)
    )
    inputs = f"json_build_object({pairs})::text" if pg else f"json_object({pairs})"
    op.execute(
        "INSERT INTO tahap_list (tahap_id, generation, " + ", ".join(LIST_COLUMNS) + ", inputs)"
        " SELECT k.tahap_id, n.generation, " + ", ".join(f"n.{c}" for c in LIST_COLUMNS) + f", {inputs}"
        " FROM tahap_list_v2 n JOIN tahap_key k ON k.key = n.tahap_key"
    )
    op.drop_table("tahap_list_v2")
    op.drop_table("tahap_key")
