"""What a caller may see: the shared field policy, masked identifiers, reveal with a purpose (audited)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.database import messaging
from services.registry.families.models import personal_data_access
from services.registry.families.rules import age_on
from services.registry.families.schemas import FamilyOut, MemberOut
from shared.audit.chain import AuditLog
from shared.auth.permissions import Permission, allowed
from shared.auth.principal import Principal
from shared.context import request_id_var
from shared.events.envelope import utcnow
from shared.http.problems import ProblemError
from shared.privacy.identifiers import mask_identifier
from shared.privacy.policy import (
    IDENTIFIER_FIELDS,
    PERSONAL_FIELDS,
    age_band,
    masked,
    withhold,
)

# Birth dates are protected personal data too (UU Adminduk art. 84): shown only with the identifiers.
REVEAL_ONLY_KEYS = frozenset({"birth_date"})

AUDIT = AuditLog(messaging.audit_log)


@dataclass(frozen=True)
class Viewer:
    """The caller and what they asked to see."""

    principal: Principal
    reveal: bool = False
    purpose: str | None = None

    def identifier(self, value: str) -> str:
        """A NIK or No. KK as this viewer may see it."""
        return value if self.reveal else mask_identifier(value)


def viewer_for(principal: Principal, reveal: bool, purpose: str | None) -> Viewer:
    """Check a reveal request: the role must hold READ_FULL_IDENTIFIERS and a purpose must be given."""
    if not reveal:
        return Viewer(principal)
    if not allowed(principal.role, Permission.READ_FULL_IDENTIFIERS):
        raise ProblemError(
            403,
            f"Role '{principal.role}' may not read unmasked NIK and No. KK.",
            code="forbidden",
            permission=Permission.READ_FULL_IDENTIFIERS,
        )
    if not purpose or len(purpose.strip()) < 3:
        raise ProblemError(
            422,
            "Revealing identifiers requires a purpose.",
            code="validation",
            errors=[{"field": "purpose", "reason": "purpose.required", "message": "state why you need the data"}],
        )
    return Viewer(principal, reveal=True, purpose=purpose.strip())


# Built once: a reused statement keeps its cache key (the DCI search path writes this on every request).
_ADD_ACCESS = insert(personal_data_access)


async def record_access(
    session: AsyncSession,
    viewer: Viewer,
    targets: Iterable[tuple[str, str | None]],
    fields: str,
    *,
    chained: bool = True,
) -> None:
    """Write one personal_data_access row per (family, member) revealed (no-op when nothing was revealed), and
    an audit entry of the reveal unless the caller's own entry names the same records (`chained=False`)."""
    if not viewer.reveal:
        return
    now = utcnow()
    if not allowed(viewer.principal.role, Permission.READ_PERSONAL_DATA):
        # For this role the reveal also lifted the masking of names and addresses: the record says so.
        fields = f"{fields},{','.join(sorted(PERSONAL_FIELDS))}"
    rows = [
        {
            "actor": viewer.principal.subject,
            "actor_role": str(viewer.principal.role),
            "at": now,
            "family_id": family_id,
            "member_id": member_id,
            "purpose": viewer.purpose or "",
            "fields": fields,
            "request_id": request_id_var.get(),
        }
        for family_id, member_id in targets
    ]
    if rows:
        await session.execute(_ADD_ACCESS, rows)
        if not chained:
            return
        # The same read goes into the tamper-evident audit log, so an auditor can prove who saw what and why.
        await AUDIT.record(
            session,
            actor=viewer.principal.subject,
            role=str(viewer.principal.role),
            action="reveal personal data",
            record_type="family",
            record_id=str(rows[0]["family_id"]) if len(rows) == 1 else None,
            purpose=viewer.purpose,
            after={"fields": fields, "targets": [[r["family_id"], r["member_id"]] for r in rows]},
            request_id=request_id_var.get(),
        )


def present_member(row: Mapping[str, Any], viewer: Viewer, today: date) -> MemberOut:
    """A member row for this viewer."""
    birth = row["birth_date"]
    age = age_on(birth, today) if birth is not None else None
    member = MemberOut(
        id=row["id"],
        family_id=row["family_id"],
        nik=viewer.identifier(row["nik"]),
        nik_valid=row["nik_issue"] is None,
        name=row["name"],
        birth_place=row["birth_place"],
        birth_date=birth if viewer.reveal else None,
        age=age,
        age_band=age_band(age),
        sex=row["sex"],
        relationship=row["relationship"],
        marital_status=row["marital_status"],
        education=row["education"],
        school_status=row["school_status"],
        occupation=row["occupation"],
        disability=row["disability"],
        pregnant=row["pregnant"],
        deceased=bool(row["deceased"]),
        deceased_date=row["deceased_date"],
        death_certificate_no=row["death_certificate_no"],
        active=bool(row["active"]),
    )
    return withhold(member, viewer.principal.role, revealed=viewer.reveal)


def present_family(
    row: Mapping[str, Any],
    viewer: Viewer,
    *,
    open_flags: Iterable[str],
    members: Sequence[Mapping[str, Any]] | None,
    today: date,
) -> FamilyOut:
    """A family row (with members for the detail view) for this viewer."""
    shown = [present_member(m, viewer, today) for m in members] if members is not None else None
    count = row.get("member_count")
    if count is None and members is not None:
        count = sum(1 for m in members if m["active"] and not m["deceased"])
    out = FamilyOut(
        id=row["id"],
        no_kk=viewer.identifier(row["no_kk"]),
        head_nik=viewer.identifier(row["head_nik"]),
        recipient_member_id=row.get("recipient_effective")
        or row.get("recipient_member_id")
        or _head_member_id(row, members),
        address=row["address"],
        rt=row["rt"],
        rw=row["rw"],
        kelurahan_code=row["kelurahan_code"],
        kecamatan_code=row["kecamatan_code"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        existence_status=row["existence_status"],
        data_status=row["data_status"],
        status_reason=row["status_reason"],
        source=row["source"],
        desil=row["desil"],
        desil_period=row["desil_period"],
        desil_since=row["desil_since"],
        version=int(row["version"]),
        open_flags=sorted(open_flags),
        member_count=int(count or 0),
        members=shown,
        created_at=aware(row["created_at"]),
        updated_at=aware(row["updated_at"]),
    )
    return withhold(out, viewer.principal.role, revealed=viewer.reveal)


def _head_member_id(row: Mapping[str, Any], members: Sequence[Mapping[str, Any]] | None) -> str | None:
    # A family a bulk import wrote has no recipient stored: it is the head (see models.recipient_expr).
    head = [m["id"] for m in members or () if m["active"] and m["nik"] == row["head_nik"]]
    return min(head) if head else None


def aware(value: datetime) -> datetime:
    """A timestamp with its zone (SQLite returns stored UTC values without one)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def redact(value: Any, viewer: Viewer) -> Any:
    """A history snapshot with identifiers masked, birth dates dropped unless revealed, and the field policy applied
    (sensitive fields dropped, names and addresses masked for roles that do not need them)."""
    return _identifiers(masked(value, viewer.principal.role, revealed=viewer.reveal), viewer)


def _identifiers(value: Any, viewer: Viewer) -> Any:
    if isinstance(value, dict):
        return {
            k: viewer.identifier(v) if k in IDENTIFIER_FIELDS and isinstance(v, str) else _identifiers(v, viewer)
            for k, v in value.items()
            if k not in REVEAL_ONLY_KEYS or viewer.reveal
        }
    if isinstance(value, list):
        return [_identifiers(v, viewer) for v in value]
    return value
