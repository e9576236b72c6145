"""Payment instruction files: build the newest file of an approved tahap, record its hash and control totals."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from sqlalchemy.ext.asyncio import AsyncSession

from services.disbursement.payment_files import builders as b
from services.disbursement.payment_files import repository as repo
from services.disbursement.tahap_state.service import require_tahap
from shared.auth.principal import Principal
from shared.events.envelope import utcnow
from shared.http.problems import ProblemError

KIND_OF_CHANNEL = {"bank_kks": b.PAIN001, "pos": b.POS_CSV}
MEDIA_TYPE = {b.PAIN001: "application/xml", b.POS_CSV: "text/csv; charset=utf-8"}
SUFFIX = {b.PAIN001: "xml", b.POS_CSV: "csv"}
SPOOL = 8 << 20
CHUNK = 1 << 16


@dataclass
class PaymentFile:
    """A built file (spooled: in memory up to 8 MiB, then on disk) and what was recorded about it."""

    kind: str
    filename: str
    media_type: str
    sha256: str
    count: int
    total: int
    content: IO[bytes]

    def chunks(self) -> Iterator[bytes]:
        """The file's bytes in chunks; closes it at the end."""
        try:
            self.content.seek(0)
            while chunk := self.content.read(CHUNK):
                yield chunk
        finally:
            self.content.close()


async def build_file(
    session: AsyncSession, *, tahap_id: str, kind: str | None, debtor: b.Debtor, principal: Principal
) -> PaymentFile:
    """The payment instruction file of an approved tahap (same lines, same bytes), recorded on the tahap."""
    tahap = await require_tahap(session, tahap_id)
    if tahap["status"] not in {"approved", "paying"} or tahap["approved_at"] is None:
        raise ProblemError(
            409,
            f"Tahap is {tahap['status']}: payment files are built from an approved list.",
            code="invalid_state",
            current_status=tahap["status"],
        )
    if kind is None:
        channel = await repo.channel_of(session, tahap["programme_code"])
        kind = KIND_OF_CHANNEL.get(channel or "")
        if kind is None:
            raise ProblemError(
                409, f"Programme channel {channel!r} has no payment file; choose one with kind.", code="no_file_kind"
            )
    label, programme_code = tahap["label"], tahap["programme_code"]
    digest = b.LineSetDigest(tahap_id, kind)
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115  (closed by PaymentFile.chunks)
    async for line in repo.unpaid_lines(session, tahap_id):
        digest.add(line)
        if kind == b.PAIN001:
            body.write(b.pain001_transaction(line, programme_code=programme_code, tahap_label=label))
        else:
            body.write(b.pos_row(digest.count, line, programme_code=programme_code, tahap_label=label))
    if digest.count == 0:
        body.close()
        raise ProblemError(409, "No line of this tahap is left to pay (held, paid or cancelled).", code="no_lines")
    # Dates come from the approval, not the clock, so the same lines give the same bytes.
    approved_at = tahap["approved_at"]
    head = b.FileHead(
        message_id=digest.message_id(),
        created_at=approved_at,
        execution_date=approved_at.date(),
        count=digest.count,
        total=digest.total,
        programme_code=programme_code,
        tahap_label=label,
    )
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115  (closed by PaymentFile.chunks)
    sha = hashlib.sha256()
    with body:
        body.seek(0)
        first = b.pain001_head(head, debtor) if kind == b.PAIN001 else b.pos_head()
        last = b.pain001_tail() if kind == b.PAIN001 else b.pos_tail(head)
        out.write(first)
        sha.update(first)
        while chunk := body.read(CHUNK):
            out.write(chunk)
            sha.update(chunk)
        out.write(last)
        sha.update(last)
    await repo.record_file(
        session,
        tahap_id,
        {
            "payment_file_kind": kind,
            "payment_file_sha256": sha.hexdigest(),
            "payment_file_count": digest.count,
            "payment_file_total": digest.total,
            "payment_file_at": utcnow(),
            "payment_file_by": principal.subject,
        },
    )
    safe_label = "".join(c if c.isalnum() or c in "-_" else "_" for c in label)
    return PaymentFile(
        kind=kind,
        filename=f"{programme_code}_{safe_label}_{kind}.{SUFFIX[kind]}",
        media_type=MEDIA_TYPE[kind],
        sha256=sha.hexdigest(),
        count=digest.count,
        total=digest.total,
        content=out,
    )
