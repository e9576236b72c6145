"""An import job in the audit chain: one entry per job that changed data, covering the job's history rows.

A job runs outside any request, so the request's audit hook never sees it. The entry written in the job's own
transaction names who started it, the file (name, bytes, SHA-256), the source and counts, and references the
`family_history` rows the job wrote (every change to every family, one row per event, never edited) by the
job id in their reason, their id range, count and a digest computed in the database. One entry per job keeps
the chain small at a city's 250,000 families; verification recomputes the digest, so the chain covers every
family's change without repeating it.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.database import messaging
from services.registry.families.models import family_history
from shared.audit.chain import AuditLog
from shared.audit.coverage import reference_rows
from shared.context import request_id_var

AUDIT = AuditLog(messaging.audit_log)
RECORD_TYPE = "import_job"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


async def file_sha256(path: Path) -> str:
    """The SHA-256 of the job's stored file (read off the event loop)."""
    return await asyncio.to_thread(_sha256, path)


async def record_job(session: AsyncSession, *, job: dict[str, Any], file_hash: str, counts: dict[str, int]) -> int:
    """Write the job's audit entry in its transaction; returns the entry's sequence number."""
    # Every history row of a job carries its id at the end of the reason ("... import <job id>").
    covered = await reference_rows(session, family_history, column="reason", pattern=f"% {job['id']}")
    return await AUDIT.record(
        session,
        actor=job["created_by"],
        role=job["created_role"],
        action=f"import {job['kind']}",
        record_type=RECORD_TYPE,
        record_id=job["id"],
        after={
            "kind": job["kind"],
            "file_name": job["file_name"],
            "file_bytes": job["file_bytes"],
            "file_sha256": file_hash,
            "source": job["source"],
            "counts": counts,
            "covers": covered.as_json(),
        },
        request_id=request_id_var.get(),
    )
