"""Import jobs, their per-row errors, and the staging tables the set-based merge reads (UNLOGGED on PostgreSQL).

Imports run one at a time and empty the staging tables before and after, so a staging index never needs the
job id in front (it would only make every key 36 bytes wider)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, DateTime, Index, Integer, String, Table, Text

from services.registry.database import metadata
from services.registry.families.rules import Source
from shared.db.messaging import BigId
from shared.db.types import IdText

# What an extract import writes, and the columns of a family it compares and records in history.
SOURCE = Source.DTSEN_IMPORT.value
FAMILY_FIELDS = ("head_nik", "address", "rt", "rw", "kelurahan_code")

import_job = Table(
    "import_job",
    metadata,
    Column("id", IdText(36), primary_key=True),
    # extract / death / excluded
    Column("kind", String(20), nullable=False),
    # queued / running / succeeded / failed
    Column("status", String(20), nullable=False),
    Column("file_name", String(300), nullable=False),
    Column("file_path", String(1000), nullable=False),
    Column("file_bytes", BigInteger, nullable=False, server_default="0"),
    # the list's source (dukcapil, bkd, ...); the extract's is always dtsen_import
    Column("source", String(50), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_role", String(30), nullable=False),
    Column("wilayah", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("counts", JSON, nullable=True),
    Column("error", Text, nullable=True),
    # phases gone through (name, seconds) and rows read: `imports.progress`
    Column("progress", JSON, nullable=True),
    Index("ix_import_job_created", "created_at"),
)

# The per-row error report: row (spreadsheet numbering, header = 1), field, reason. No values: no PII in it.
import_error = Table(
    "import_error",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("import_id", IdText(36), nullable=False),
    Column("row_no", Integer, nullable=False),
    Column("field", String(50), nullable=False),
    Column("reason", String(100), nullable=False),
    # The row's No. KK, so a rejected row takes its whole family with it (never written to the report).
    Column("no_kk", IdText(32), nullable=True),
    Index("ix_import_error_import_row", "import_id", "row_no"),
    Index("ix_import_error_import_kk", "import_id", "no_kk"),
)

# One validated extract row (staging; emptied after each job).
import_row = Table(
    "import_row",
    metadata,
    Column("import_id", IdText(36), nullable=False),
    Column("row_no", Integer, nullable=False),
    Column("no_kk", IdText(16), nullable=False),
    Column("kelurahan_code", String(20), nullable=False),
    Column("kecamatan_code", String(20), nullable=False),
    Column("address", String(300), nullable=False),
    Column("rt", String(3), nullable=False),
    Column("rw", String(3), nullable=False),
    Column("nik", IdText(16), nullable=False),
    Column("nik_issue", String(50), nullable=True),
    Column("name", String(200), nullable=False),
    Column("birth_place", String(100), nullable=True),
    Column("birth_date", Date, nullable=True),
    Column("sex", String(1), nullable=True),
    Column("relationship", String(30), nullable=False),
    Column("marital_status", String(30), nullable=True),
    Column("education", String(30), nullable=True),
    Column("school_status", String(30), nullable=True),
    Column("occupation", String(100), nullable=True),
    Column("disability", String(20), nullable=True),
    Column("pregnant", Boolean, nullable=True),
    Column("desil", Integer, nullable=True),
    Column("desil_period", String(20), nullable=True),
    # No index: the table holds the running job's rows only, and the merge reads them whole (hash joins).
)

# One family of the extract after validation: its household id (existing or new) and what the merge does.
import_family = Table(
    "import_family",
    metadata,
    Column("import_id", IdText(36), nullable=False),
    Column("no_kk", IdText(16), nullable=False),
    Column("family_id", IdText(36), nullable=False),
    # insert / update / same
    Column("action", String(10), nullable=False),
    Column("head_nik", IdText(16), nullable=False),
    Column("address", String(300), nullable=False),
    Column("rt", String(3), nullable=False),
    Column("rw", String(3), nullable=False),
    Column("kelurahan_code", String(20), nullable=False),
    Column("kecamatan_code", String(20), nullable=False),
    Column("desil", Integer, nullable=True),
    Column("desil_period", String(20), nullable=True),
    Index("ix_import_family_kk", "no_kk"),
    Index("ix_import_family_id", "family_id"),
)

# One row of an external list (death or excluded occupation).
import_list_row = Table(
    "import_list_row",
    metadata,
    Column("import_id", IdText(36), nullable=False),
    Column("row_no", Integer, nullable=False),
    Column("nik", IdText(16), nullable=False),
    Column("deceased_date", Date, nullable=True),
    Column("certificate_no", String(50), nullable=True),
    Column("category", String(40), nullable=True),
    Column("instansi", String(200), nullable=True),
    # Death list: the optional listed name, and whether it fails to name the member (set when matching).
    Column("name", String(200), nullable=True),
    Column("name_mismatch", Boolean, nullable=True),
    Index("ix_import_list_row_nik", "nik"),
)

# The events a job emits, in order per family; versions, history and outbox rows are derived from it set-based.
import_event = Table(
    "import_event",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("import_id", IdText(36), nullable=False),
    Column("family_id", IdText(36), nullable=False),
    Column("member_id", IdText(36), nullable=True),
    Column("event_type", String(100), nullable=False),
    Column("action", String(50), nullable=False),
    Column("change", JSON, nullable=False),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Index("ix_import_event_family", "family_id", "id"),
)

# The families whose computed flags the job may change, and the computed flags that should be open for them.
import_scope = Table(
    "import_scope",
    metadata,
    Column("import_id", IdText(36), nullable=False),
    Column("family_id", IdText(36), nullable=False),
    Index("ix_import_scope_family", "family_id"),
)

import_flag = Table(
    "import_flag",
    metadata,
    Column("import_id", IdText(36), nullable=False),
    Column("family_id", IdText(36), nullable=False),
    Column("member_id", IdText(36), nullable=True),
    Column("subject_key", IdText(36), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("detail", JSON, nullable=True),
    Index("ix_import_flag_key", "family_id", "subject_key", "kind"),
)

# A row kept out of the member table (validation failed, or the merge set it aside): its raw values, on their way
# to the correction queue (staging; emptied after each job). `no_kk`: the row's No. KK when it is valid.
import_bad_row = Table(
    "import_bad_row",
    metadata,
    Column("import_id", IdText(36), nullable=False),
    Column("row_no", Integer, nullable=False),
    Column("no_kk", IdText(16), nullable=True),
    Column("nik", IdText(50), nullable=True),
    Column("relationship", String(50), nullable=True),
    Column("kelurahan_code", String(20), nullable=True),
    Column("raw", JSON, nullable=False),
    # e.g. {"other_family_id": ...} for nik.duplicate
    Column("detail", JSON, nullable=True),
    Index("ix_import_bad_row_kk", "no_kk"),
)

STAGING_TABLES = (
    import_row,
    import_family,
    import_list_row,
    import_event,
    import_scope,
    import_flag,
    import_bad_row,
)

# The correction queue (fixed and dismissed by `corrections`): extract rows kept out of the member table, waiting
# to be fixed or dismissed. Imports own the table because imports fill it.
correction = Table(
    "correction",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("import_id", IdText(36), nullable=False),
    # Spreadsheet numbering of the extract (header = row 1), as in the job's error report.
    Column("row_no", Integer, nullable=False),
    # The first rule the row broke (e.g. nik.not_16_digits, nik.duplicate) and its column; `errors` has them all.
    Column("rule", String(100), nullable=False),
    Column("field", String(50), nullable=False),
    Column("errors", JSON, nullable=False),
    # The row's values as the file gave them (extract column names), PII included: read only in scope.
    Column("raw", JSON, nullable=False),
    Column("no_kk", IdText(50), nullable=True),
    Column("nik", IdText(50), nullable=True),
    # The family the row belongs to (imported without it), when there is one.
    Column("family_id", IdText(36), nullable=True),
    Column("kelurahan_code", String(20), nullable=True),
    Column("kecamatan_code", String(20), nullable=True),
    # e.g. {"other_family_id": ...} for nik.duplicate, {"head": true} for a family's head row
    Column("detail", JSON, nullable=True),
    # open / fixed / dismissed
    Column("status", String(20), nullable=False, server_default="open"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("resolved_by", String(200), nullable=True),
    Column("resolved_role", String(30), nullable=True),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("resolution_reason", String(500), nullable=True),
    # The member a fix created.
    Column("member_id", IdText(36), nullable=True),
    Index("ix_correction_status_kecamatan", "status", "kecamatan_code"),
    Index("ix_correction_family", "family_id"),
    Index("ix_correction_key", "no_kk", "nik", "rule"),
)
