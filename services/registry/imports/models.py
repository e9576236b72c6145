"""Import jobs, their per-row errors, and the staging tables the set-based merge reads (UNLOGGED on PostgreSQL).

Imports run one at a time and empty the staging tables before and after, so a staging index never needs the
job id in front (it would only make every key 36 bytes wider).

The staging tables have no primary key (nothing looks a row up by one); the ORM mapper of a class needs one, so
each names in `__mapper_args__` the columns that identify a row, for the mapper only: the tables stay keyless."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Table, Text
from sqlmodel import Field

from services.registry.database import RegistryModel
from services.registry.families.rules import Source
from shared.db.messaging import BigId
from shared.db.types import IdText

# What an extract import writes, and the columns of a family it compares and records in history.
SOURCE = Source.DTSEN_IMPORT.value
FAMILY_FIELDS = ("head_nik", "address", "rt", "rw", "kelurahan_code")


class ImportJob(RegistryModel, table=True):
    """One uploaded file and its run: kind, status, counts and the phases gone through."""

    __tablename__ = "import_job"
    __table_args__ = (Index("ix_import_job_created", "created_at"),)

    id: str = Field(sa_type=IdText(36), primary_key=True)
    # extract / death / excluded
    kind: str = Field(max_length=20)
    # queued / running / succeeded / failed
    status: str = Field(max_length=20)
    file_name: str = Field(max_length=300)
    file_path: str = Field(max_length=1000)
    file_bytes: int = Field(sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})
    # the list's source (dukcapil, bkd, ...); the extract's is always dtsen_import
    source: str = Field(max_length=50)
    created_by: str = Field(max_length=200)
    created_role: str = Field(max_length=30)
    wilayah: str = Field(max_length=20)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    started_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    counts: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    error: str | None = Field(default=None, sa_type=Text)
    # phases gone through (name, seconds) and rows read: `imports.progress`
    progress: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class ImportRowError(RegistryModel, table=True):
    """The per-row error report: row (spreadsheet numbering, header = 1), field, reason. No values: no PII in it."""

    __tablename__ = "import_error"
    __table_args__ = (
        Index("ix_import_error_import_row", "import_id", "row_no"),
        Index("ix_import_error_import_kk", "import_id", "no_kk"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True, sa_column_kwargs={"autoincrement": True})
    import_id: str = Field(sa_type=IdText(36))
    row_no: int
    field: str = Field(max_length=50)
    reason: str = Field(max_length=100)
    # The row's No. KK, so a rejected row takes its whole family with it (never written to the report).
    no_kk: str | None = Field(default=None, sa_type=IdText(32))


class ImportRow(RegistryModel, table=True):
    """One validated extract row (staging; emptied after each job)."""

    __tablename__ = "import_row"
    # No index: the table holds the running job's rows only, and the merge reads them whole (hash joins).
    __mapper_args__ = {"primary_key": ["import_id", "row_no"]}

    import_id: str = Field(sa_type=IdText(36))
    row_no: int
    no_kk: str = Field(sa_type=IdText(16))
    kelurahan_code: str = Field(max_length=20)
    kecamatan_code: str = Field(max_length=20)
    address: str = Field(max_length=300)
    rt: str = Field(max_length=3)
    rw: str = Field(max_length=3)
    nik: str = Field(sa_type=IdText(16))
    nik_issue: str | None = Field(default=None, max_length=50)
    name: str = Field(max_length=200)
    birth_place: str | None = Field(default=None, max_length=100)
    birth_date: date | None = None
    sex: str | None = Field(default=None, max_length=1)
    relationship: str = Field(max_length=30)
    marital_status: str | None = Field(default=None, max_length=30)
    education: str | None = Field(default=None, max_length=30)
    school_status: str | None = Field(default=None, max_length=30)
    occupation: str | None = Field(default=None, max_length=100)
    disability: str | None = Field(default=None, max_length=20)
    pregnant: bool | None = None
    desil: int | None = None
    desil_period: str | None = Field(default=None, max_length=20)


class ImportFamily(RegistryModel, table=True):
    """One family of the extract after validation: its household id (existing or new) and what the merge does."""

    __tablename__ = "import_family"
    __table_args__ = (
        Index("ix_import_family_kk", "no_kk"),
        Index("ix_import_family_id", "family_id"),
    )
    __mapper_args__ = {"primary_key": ["import_id", "no_kk"]}

    import_id: str = Field(sa_type=IdText(36))
    no_kk: str = Field(sa_type=IdText(16))
    family_id: str = Field(sa_type=IdText(36))
    # insert / update / same
    action: str = Field(max_length=10)
    head_nik: str = Field(sa_type=IdText(16))
    address: str = Field(max_length=300)
    rt: str = Field(max_length=3)
    rw: str = Field(max_length=3)
    kelurahan_code: str = Field(max_length=20)
    kecamatan_code: str = Field(max_length=20)
    desil: int | None = None
    desil_period: str | None = Field(default=None, max_length=20)


class ImportListRow(RegistryModel, table=True):
    """One row of an external list (death or excluded occupation)."""

    __tablename__ = "import_list_row"
    __table_args__ = (Index("ix_import_list_row_nik", "nik"),)
    __mapper_args__ = {"primary_key": ["import_id", "row_no"]}

    import_id: str = Field(sa_type=IdText(36))
    row_no: int
    nik: str = Field(sa_type=IdText(16))
    deceased_date: date | None = None
    certificate_no: str | None = Field(default=None, max_length=50)
    category: str | None = Field(default=None, max_length=40)
    instansi: str | None = Field(default=None, max_length=200)
    # Death list: the optional listed name, and whether it fails to name the member (set when matching).
    name: str | None = Field(default=None, max_length=200)
    name_mismatch: bool | None = None


class ImportEvent(RegistryModel, table=True):
    """The events a job emits, in order per family; versions, history and outbox rows are derived from it."""

    __tablename__ = "import_event"
    __table_args__ = (Index("ix_import_event_family", "family_id", "id"),)

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True, sa_column_kwargs={"autoincrement": True})
    import_id: str = Field(sa_type=IdText(36))
    family_id: str = Field(sa_type=IdText(36))
    member_id: str | None = Field(default=None, sa_type=IdText(36))
    event_type: str = Field(max_length=100)
    action: str = Field(max_length=50)
    change: dict[str, Any] = Field(sa_type=JSON)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class ImportScope(RegistryModel, table=True):
    """The families whose computed flags the job may change."""

    __tablename__ = "import_scope"
    __table_args__ = (Index("ix_import_scope_family", "family_id"),)
    __mapper_args__ = {"primary_key": ["import_id", "family_id"]}

    import_id: str = Field(sa_type=IdText(36))
    family_id: str = Field(sa_type=IdText(36))


class ImportFlag(RegistryModel, table=True):
    """A computed flag that should be open for a family of the scope."""

    __tablename__ = "import_flag"
    __table_args__ = (Index("ix_import_flag_key", "family_id", "subject_key", "kind"),)
    __mapper_args__ = {"primary_key": ["import_id", "family_id", "subject_key", "kind"]}

    import_id: str = Field(sa_type=IdText(36))
    family_id: str = Field(sa_type=IdText(36))
    member_id: str | None = Field(default=None, sa_type=IdText(36))
    subject_key: str = Field(sa_type=IdText(36))
    kind: str = Field(max_length=40)
    detail: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class ImportBadRow(RegistryModel, table=True):
    """A row kept out of the member table (validation failed, or the merge set it aside).

    Its raw values, on their way to the correction queue (staging; emptied after each job). `no_kk`: the row's
    No. KK when it is valid."""

    __tablename__ = "import_bad_row"
    __table_args__ = (Index("ix_import_bad_row_kk", "no_kk"),)
    __mapper_args__ = {"primary_key": ["import_id", "row_no"]}

    import_id: str = Field(sa_type=IdText(36))
    row_no: int
    no_kk: str | None = Field(default=None, sa_type=IdText(16))
    nik: str | None = Field(default=None, sa_type=IdText(50))
    relationship: str | None = Field(default=None, max_length=50)
    kelurahan_code: str | None = Field(default=None, max_length=20)
    raw: dict[str, Any] = Field(sa_type=JSON)
    # e.g. {"other_family_id": ...} for nik.duplicate
    detail: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class Correction(RegistryModel, table=True):
    """The correction queue (fixed and dismissed by `corrections`): extract rows kept out of the member table.

    They wait to be fixed or dismissed. Imports own the table because imports fill it."""

    __tablename__ = "correction"
    __table_args__ = (
        Index("ix_correction_status_kecamatan", "status", "kecamatan_code"),
        Index("ix_correction_family", "family_id"),
        Index("ix_correction_key", "no_kk", "nik", "rule"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True, sa_column_kwargs={"autoincrement": True})
    import_id: str = Field(sa_type=IdText(36))
    # Spreadsheet numbering of the extract (header = row 1), as in the job's error report.
    row_no: int
    # The first rule the row broke (e.g. nik.not_16_digits, nik.duplicate) and its column; `errors` has them all.
    rule: str = Field(max_length=100)
    field: str = Field(max_length=50)
    errors: list[dict[str, Any]] = Field(sa_type=JSON)
    # The row's values as the file gave them (extract column names), PII included: read only in scope.
    raw: dict[str, Any] = Field(sa_type=JSON)
    no_kk: str | None = Field(default=None, sa_type=IdText(50))
    nik: str | None = Field(default=None, sa_type=IdText(50))
    # The family the row belongs to (imported without it), when there is one.
    family_id: str | None = Field(default=None, sa_type=IdText(36))
    kelurahan_code: str | None = Field(default=None, max_length=20)
    kecamatan_code: str | None = Field(default=None, max_length=20)
    # e.g. {"other_family_id": ...} for nik.duplicate, {"head": true} for a family's head row
    detail: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    # open / fixed / dismissed
    status: str = Field(max_length=20, sa_column_kwargs={"server_default": "open"})
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    resolved_by: str | None = Field(default=None, max_length=200)
    resolved_role: str | None = Field(default=None, max_length=30)
    resolved_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    resolution_reason: str | None = Field(default=None, max_length=500)
    # The member a fix created.
    member_id: str | None = Field(default=None, sa_type=IdText(36))


# The Core tables every set-based query is written against.
import_job: Table = ImportJob.__table__  # type: ignore[attr-defined]
import_error: Table = ImportRowError.__table__  # type: ignore[attr-defined]
import_row: Table = ImportRow.__table__  # type: ignore[attr-defined]
import_family: Table = ImportFamily.__table__  # type: ignore[attr-defined]
import_list_row: Table = ImportListRow.__table__  # type: ignore[attr-defined]
import_event: Table = ImportEvent.__table__  # type: ignore[attr-defined]
import_scope: Table = ImportScope.__table__  # type: ignore[attr-defined]
import_flag: Table = ImportFlag.__table__  # type: ignore[attr-defined]
import_bad_row: Table = ImportBadRow.__table__  # type: ignore[attr-defined]
correction: Table = Correction.__table__  # type: ignore[attr-defined]

STAGING_TABLES = (
    import_row,
    import_family,
    import_list_row,
    import_event,
    import_scope,
    import_flag,
    import_bad_row,
)
