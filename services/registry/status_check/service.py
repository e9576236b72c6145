"""The status-check lookup: find the families, audit the lookup by the hash of its query (never the NIK)."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.families.privacy import AUDIT
from services.registry.status_check.repository import families_named
from services.registry.status_check.schemas import LookupOut
from shared.auth.principal import Principal
from shared.context import request_id_var
from shared.status_check import StatusQuery


def normalise_name(name: str) -> str:
    """A name as compared: single spaces, no padding (case is ignored by the query)."""
    return " ".join(name.split())


def query_hash(query: StatusQuery) -> str:
    """SHA-256 of the normalised query: what the audit keeps instead of the name and NIK."""
    canonical = json.dumps(
        {"name": normalise_name(query.name).lower(), "kelurahan_code": query.kelurahan_code, "nik": query.nik},
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def lookup(session: AsyncSession, *, principal: Principal, query: StatusQuery) -> LookupOut:
    """The families the query names; one audit entry per lookup, found or not."""
    ids = await families_named(
        session, name=normalise_name(query.name), kelurahan_code=query.kelurahan_code, nik=query.nik
    )
    await AUDIT.record(
        session,
        actor=principal.subject,
        role=principal.role,
        action="status_check",
        record_type="status_check_query",
        record_id=query_hash(query),
        purpose="public status check (cek bansos)",
        after={"by": "nik" if query.nik else "kelurahan", "matches": len(ids)},
        request_id=request_id_var.get(),
    )
    return LookupOut(household_ids=ids)
