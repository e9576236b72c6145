"""Ratification batches (pengesahan): collect, submit, ratify by a second person, export for the ministry.

Export file (CSV, UTF-8, comma-separated, header row, one row per proposal of the batch). PII-free: verification
holds no names, NIK or addresses; the ministry's system joins on household_id.

| column | meaning |
|---|---|
| batch_id | this batch |
| cycle | monthly proposal cycle, YYYY-MM |
| proposal_id | the usulan |
| household_id | the family's id in Tepat (empty for a new family not yet registered) |
| kecamatan_code, kelurahan_code | Kemendagri wilayah codes |
| kind | new_family, data_correction, desil_review, removal, withdrawal, recipient_change |
| channel | kelurahan, dinsos_counter, citizen_app, digital_agent |
| result | layak (every exported proposal passed its ground check) |
| submitted_on, verified_on, ratified_on | dates (YYYY-MM-DD, UTC) |
| ground_check_id, evidence_sha256 | the approved check and the hash of its evidence |
| muskel_minutes_sha256, muskel_list_sha256 | the kelurahan deliberation's documents (empty for app/agent channels) |
| batch_minutes_sha256, batch_list_sha256 | the batch's signed minutes and by-name-by-address list |
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.verification import guarded
from services.verification.attachments import repository as attachments
from services.verification.attachments.models import attachment
from services.verification.attachments.schemas import AttachmentOut, DocumentRef
from services.verification.evidence.service import require_stored
from services.verification.groundchecks.models import ground_check
from services.verification.proposal_records import proposal
from services.verification.ratification.models import ratification_batch
from services.verification.ratification.rules import BATCH_MACHINE, may_ratify, missing_attachments
from services.verification.ratification.schemas import BatchOut
from services.verification.scope import not_found, within_scope
from shared.auth.principal import Principal
from shared.events.envelope import utcnow
from shared.http.problems import ProblemError
from shared.statemachine import advance

EXPORT_COLUMNS = (
    "batch_id",
    "cycle",
    "proposal_id",
    "household_id",
    "kecamatan_code",
    "kelurahan_code",
    "kind",
    "channel",
    "result",
    "submitted_on",
    "verified_on",
    "ratified_on",
    "ground_check_id",
    "evidence_sha256",
    "muskel_minutes_sha256",
    "muskel_list_sha256",
    "batch_minutes_sha256",
    "batch_list_sha256",
)


async def prepare(session: AsyncSession, *, principal: Principal, cycle: str) -> dict[str, Any]:
    """A draft batch holding every eligible proposal of the cycle in the caller's scope."""
    now = utcnow()
    batch_id = int(
        (
            await session.execute(
                insert(ratification_batch)
                .values(
                    cycle=cycle,
                    wilayah_code=principal.wilayah,
                    status="draft",
                    proposal_count=0,
                    prepared_by=principal.subject,
                    prepared_at=now,
                )
                .returning(ratification_batch.c.id)
            )
        ).scalar_one()
    )
    # eligible → awaiting_ratification for the whole cycle in one guarded, set-based statement.
    taken = await session.execute(
        update(proposal)
        .where(
            proposal.c.status == "eligible",
            proposal.c.cycle == cycle,
            within_scope(proposal.c.kelurahan_code, principal),
        )
        .values(status="awaiting_ratification", batch_id=batch_id, updated_at=now, version=proposal.c.version + 1)
    )
    count = int(taken.rowcount)  # type: ignore[attr-defined]
    if count == 0:
        raise ProblemError(409, f"No eligible proposals in cycle {cycle} to ratify.", code="nothing_to_ratify")
    await session.execute(
        update(ratification_batch).where(ratification_batch.c.id == batch_id).values(proposal_count=count)
    )
    return await load_batch(session, principal=principal, batch_id=batch_id)


async def load_batch(session: AsyncSession, *, principal: Principal, batch_id: int) -> dict[str, Any]:
    """A batch prepared within the caller's scope (kota-level batches are seen by kota-level callers)."""
    row = await guarded.load(session, ratification_batch, batch_id)
    if row is None or not principal.covers(row["wilayah_code"]):
        raise not_found("ratification batch", batch_id)
    return row


async def attach(session: AsyncSession, *, principal: Principal, batch_id: int, ref: DocumentRef) -> dict[str, Any]:
    """Attach the signed minutes or the by-name-by-address list to a batch not yet sent."""
    row = await load_batch(session, principal=principal, batch_id=batch_id)
    if row["status"] == "sent":
        raise ProblemError(409, "A sent batch cannot change.", code="batch_sent", current_state="sent")
    await require_stored(session, hashes=[ref.sha256], field="document")
    await attachments.attach(session, owner_kind="batch", owner_id=batch_id, ref=ref, by=principal.subject)
    return row


async def submit(session: AsyncSession, *, principal: Principal, batch_id: int) -> dict[str, Any]:
    """draft → submitted (ready for the kepala dinas)."""
    row = await load_batch(session, principal=principal, batch_id=batch_id)
    return await guarded.move(session, ratification_batch, BATCH_MACHINE, row, "submit", {"submitted_at": utcnow()})


async def ratify(session: AsyncSession, *, principal: Principal, batch_id: int) -> dict[str, Any]:
    """submitted → ratified, signed by someone other than who prepared it; its proposals become ratified."""
    row = await load_batch(session, principal=principal, batch_id=batch_id)
    advance(BATCH_MACHINE, row["status"], "ratify")
    if not may_ratify(row["prepared_by"], principal.subject):
        raise ProblemError(403, "Who prepared a batch cannot ratify it.", code="four_eyes")
    now = utcnow()
    moved = await guarded.move(
        session,
        ratification_batch,
        BATCH_MACHINE,
        row,
        "ratify",
        {"ratified_by": principal.subject, "ratified_at": now},
    )
    await _move_proposals(session, batch_id, "awaiting_ratification", "ratified", now)
    return moved


async def export(session: AsyncSession, *, principal: Principal, batch_id: int) -> tuple[dict[str, Any], str]:
    """ratified → sent and the CSV for the ministry; a sent batch can be exported again. 409 without documents."""
    row = await load_batch(session, principal=principal, batch_id=batch_id)
    if row["status"] != "sent":
        advance(BATCH_MACHINE, row["status"], "send")
    docs = await attachments.attachments_of(session, owner_kind="batch", owner_id=batch_id)
    missing = missing_attachments(d["role"] for d in docs)
    if missing:
        raise ProblemError(
            409,
            f"Batch {batch_id} cannot be exported without its {' and '.join(missing)} attached.",
            code="attachments_missing",
            missing=missing,
            current_state=row["status"],
        )
    if row["status"] != "sent":
        now = utcnow()
        row = await guarded.move(session, ratification_batch, BATCH_MACHINE, row, "send", {"sent_at": now})
        await _move_proposals(session, batch_id, "ratified", "sent", now)
    by_role = {d["role"]: d["sha256"] for d in docs}
    return row, await _csv(session, row, by_role)


async def _move_proposals(session: AsyncSession, batch_id: int, expected: str, target: str, now: datetime) -> None:
    await session.execute(
        update(proposal)
        .where(proposal.c.batch_id == batch_id, proposal.c.status == expected)
        .values(status=target, updated_at=now, version=proposal.c.version + 1)
    )


async def _csv(session: AsyncSession, batch: dict[str, Any], batch_docs: dict[str, str]) -> str:
    minutes = attachment.alias("mm")
    lists = attachment.alias("ml")
    p = proposal.c
    stmt = (
        select(
            p.id,
            p.household_id,
            p.kecamatan_code,
            p.kelurahan_code,
            p.kind,
            p.channel,
            p.submitted_at,
            p.verified_at,
            p.ground_check_id,
            ground_check.c.evidence_hash,
            minutes.c.sha256.label("minutes_sha256"),
            lists.c.sha256.label("list_sha256"),
        )
        .select_from(
            proposal.outerjoin(ground_check, ground_check.c.id == p.ground_check_id)
            .outerjoin(
                minutes,
                and_(minutes.c.owner_kind == "muskel", minutes.c.owner_id == p.muskel_id, minutes.c.role == "minutes"),
            )
            .outerjoin(
                lists, and_(lists.c.owner_kind == "muskel", lists.c.owner_id == p.muskel_id, lists.c.role == "list")
            )
        )
        .where(p.batch_id == batch["id"])
        .order_by(p.id)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for r in await session.execute(stmt):
        writer.writerow(
            [
                batch["id"],
                batch["cycle"],
                r.id,
                r.household_id or "",
                r.kecamatan_code,
                r.kelurahan_code,
                r.kind,
                r.channel,
                "layak",
                _day(r.submitted_at),
                _day(r.verified_at),
                _day(batch["ratified_at"]),
                r.ground_check_id or "",
                r.evidence_hash or "",
                r.minutes_sha256 or "",
                r.list_sha256 or "",
                batch_docs.get("minutes", ""),
                batch_docs.get("list", ""),
            ]
        )
    return out.getvalue()


def _day(value: datetime | None) -> str:
    return value.date().isoformat() if value is not None else ""


async def to_out(session: AsyncSession, row: dict[str, Any]) -> BatchOut:
    """Response body of a batch."""
    docs = await attachments.attachments_of(session, owner_kind="batch", owner_id=row["id"])
    return BatchOut(
        **{k: row[k] for k in BatchOut.model_fields if k in row},
        allowed_actions=BATCH_MACHINE.allowed(row["status"]),
        attachments=[AttachmentOut(**{k: d[k] for k in AttachmentOut.model_fields}) for d in docs],
    )
