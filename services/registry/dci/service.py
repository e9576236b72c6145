"""DCI Social Registry interface: who may call (partner, token, signature) and sync search over the register."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.dci import repository, spec
from services.registry.dci.query import CriteriaError, parse_criteria
from services.registry.dci.records import group, person
from services.registry.dci.schemas import PartnerIn
from services.registry.dci.signature import SignatureError, verify
from services.registry.families.privacy import AUDIT, Viewer, record_access
from shared.auth.principal import Principal, Role
from shared.context import request_id_var

VERSION = "1.0.0"
RECEIVER_ID = "registry.tepat.padang.go.id"
MAX_BATCH = 100


class DciError(Exception):
    """An HTTP-layer refusal in the spec's terms (Error.code), answered as HttpErrorResponse / ERR ack."""

    def __init__(self, status: int, code: str, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors or []


def ts(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


async def register_partner(session: AsyncSession, *, partner: PartnerIn, now: datetime) -> None:
    """Add a partner or replace its settings."""
    await repository.save_partner(session, partner.model_dump(), now)


async def get_partner(session: AsyncSession, *, sender_id: str) -> dict[str, Any] | None:
    """One partner's registered settings, or None."""
    row = await repository.get_partner(session, sender_id)
    return dict(row) if row is not None else None


async def list_partners(session: AsyncSession) -> list[dict[str, Any]]:
    """Every registered partner."""
    return [dict(r) for r in await repository.list_partners(session)]


async def list_callbacks(
    session: AsyncSession, *, status: str | None, sender_id: str | None, limit: int
) -> list[dict[str, Any]]:
    """Callbacks to partners, newest first (operators look for the dead ones)."""
    return [dict(r) for r in await repository.list_callbacks(session, status=status, sender_id=sender_id, limit=limit)]


async def retry_dead_callbacks(session: AsyncSession, *, ids: list[int] | None, now: datetime) -> int:
    """Queue dead callbacks again (these, or all); how many."""
    return await repository.retry_dead(session, ids=ids, now=now)


async def authenticate(
    session: AsyncSession, *, body: Any, action: str, message_schema: str, principal: Principal, now: datetime
) -> RowMapping:
    """Check the envelope against the spec, then sender, token subject and signature; the partner row, with
    `message_seen` (this sender used this message id before)."""
    if not isinstance(body, dict):
        raise DciError(400, "err.request.bad", "The body must be a JSON object with signature, header and message.")
    found = spec.request_problems(action, message_schema, body)
    if found:
        raise DciError(400, "err.request.bad", "The request does not follow the DCI schema.", found)
    header = body["header"]
    if header.get("version", VERSION) != VERSION:
        raise DciError(400, "err.version.not_supported", f"Only version {VERSION} is supported.")
    if header.get("is_msg_encrypted") or "ciphertext" in body["message"]:
        raise DciError(400, "err.encryption.invalid", "Encrypted messages are not supported; send TLS plaintext.")
    if header.get("receiver_id") not in (None, RECEIVER_ID):
        raise DciError(400, "err.receiver_id.invalid", f"This registry is {RECEIVER_ID}.")
    partner = await repository.get_sender(session, header["sender_id"], header["message_id"])
    if partner is None or not partner["active"]:
        raise DciError(403, "err.sender_id.invalid", "The sender is not a registered partner.")
    if principal.subject != partner["oauth_subject"]:
        raise DciError(403, "err.request.forbidden", "The access token does not belong to this sender.")
    try:
        verify(
            body.get("signature"),
            public_key_pem=partner["public_key_pem"],
            sender_id=partner["sender_id"],
            header=header,
            message=body["message"],
            now=int(now.timestamp()),
        )
    except SignatureError as exc:
        raise DciError(401, exc.code, exc.message) from exc
    return partner


def callback_header(
    *, action: str, partner: Mapping[Any, Any], now: datetime, status: str, total: int, completed: int
) -> dict[str, Any]:
    """The header of an answer or callback to `partner`."""
    return {
        "version": VERSION,
        "message_id": str(uuid.uuid4()),
        "message_ts": ts(now),
        "action": action,
        "status": status,
        "total_count": total,
        "completed_count": completed,
        "sender_id": RECEIVER_ID,
        "receiver_id": partner["sender_id"],
        "is_msg_encrypted": False,
    }


def _header_reject(partner: Mapping[Any, Any], now: datetime, code: str, message: str, total: int) -> dict[str, Any]:
    header = callback_header(action="on-search", partner=partner, now=now, status="rjct", total=total, completed=0)
    header.update(status_reason_code=code, status_reason_message=message)
    return {"header": header}


def transaction_row(
    *,
    partner: Mapping[Any, Any],
    body: Mapping[str, Any],
    correlation_id: str,
    action: str,
    status: str,
    requests: list[dict[str, Any]],
    now: datetime,
    **extra: Any,
) -> dict[str, Any]:
    """The dci_transaction row of one received message."""
    return {
        "correlation_id": correlation_id,
        "sender_id": partner["sender_id"],
        "message_id": body["header"]["message_id"],
        "transaction_id": body["message"]["transaction_id"],
        "action": action,
        "status": status,
        "requests": requests,
        "received_at": now,
        **extra,
    }


def header_checks(
    partner: Mapping[Any, Any], header: Mapping[str, Any], count: int, now: datetime, seen: bool
) -> dict[str, Any] | None:
    """The header-level refusal of a search message (an on-search with status rjct), or None."""
    if seen:
        return _header_reject(partner, now, "rjct.message_id.duplicate", "message_id already used", count)
    if header["total_count"] != count:
        return _header_reject(
            partner, now, "rjct.total_count.invalid", "total_count differs from search_request", count
        )
    if count > MAX_BATCH:
        return _header_reject(partner, now, "rjct.total_count.limit_exceeded", f"at most {MAX_BATCH} requests", count)
    return None


async def answer_requests(
    session: AsyncSession,
    *,
    message: Mapping[str, Any],
    partner: Mapping[Any, Any],
    correlation_id: str,
    now: datetime,
    today: date,
) -> tuple[list[dict[str, Any]], SearchAudit]:
    """One search_response per search_request (checked, scoped, field-cut), and what to audit of it (the caller
    audits after its own writes: see audit_search)."""
    requests: list[dict[str, Any]] = message["search_request"]
    allowed = frozenset(partner["fields"])
    responses: list[dict[str, Any]] = []
    delivered: list[dict[str, str]] = []
    seen: set[str] = set()
    purposes: list[str] = []
    for item in requests:
        reference_id = item["reference_id"]
        answer: dict[str, Any] = {"reference_id": reference_id, "timestamp": ts(now)}
        if item.get("locale"):
            answer["locale"] = item["locale"]
        responses.append(answer)
        if reference_id in seen:
            answer.update(status="rjct", status_reason_code="rjct.reference_id.duplicate")
            answer["status_reason_message"] = "reference_id repeated in this message"
            continue
        seen.add(reference_id)
        try:
            search = parse_criteria(
                item["search_criteria"], query_types=list(partner["query_types"]), scope=list(partner["wilayah"])
            )
        except CriteriaError as exc:
            answer.update(status="rjct", status_reason_code=exc.code, status_reason_message=exc.message)
            continue
        if search.purpose:
            purposes.append(search.purpose)
        rows, total = await repository.search_records(session, search, partner["wilayah"], today)
        if search.record_type == "Person":
            records = [person(r, allowed, today) for r in rows]
            delivered.extend({"type": "member", "id": r["id"], "family_id": r["family_id"]} for r in rows)
        else:
            members = (
                await repository.members_of(session, [r["family_id"] for r in rows]) if "members" in allowed else {}
            )
            records = [group(r, members.get(r["family_id"], []), allowed, today) for r in rows]
            delivered.extend({"type": "family", "id": r["family_id"], "family_id": r["family_id"]} for r in rows)
        answer.update(
            status="succ",
            data={"version": VERSION, "reg_record_type": search.record_type, "reg_records": records},
            pagination={"page_size": search.page_size, "page_number": search.page_number, "total_count": total},
        )
    return responses, SearchAudit(partner, message, correlation_id, delivered, purposes, allowed)


def request_states(responses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: a[k] for k in ("reference_id", "status", "status_reason_code") if k in a} for a in responses]


def on_search_body(
    partner: Mapping[Any, Any],
    message: Mapping[str, Any],
    correlation_id: str,
    responses: list[dict[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    count = len(message["search_request"])
    return {
        "header": callback_header(
            action="on-search", partner=partner, now=now, status="succ", total=count, completed=count
        ),
        "message": {
            "transaction_id": message["transaction_id"],
            "correlation_id": correlation_id,
            "search_response": responses,
        },
    }


async def sync_search(
    session: AsyncSession, *, body: dict[str, Any], partner: RowMapping, now: datetime, today: date
) -> dict[str, Any]:
    """Answer a search message: one search_response per search_request, each checked, scoped and field-cut."""
    header, message = body["header"], body["message"]
    refused = header_checks(partner, header, len(message["search_request"]), now, partner["message_seen"])
    if refused is not None:
        return refused
    correlation_id = str(uuid.uuid4())
    responses, audit = await answer_requests(
        session, message=message, partner=partner, correlation_id=correlation_id, now=now, today=today
    )
    row = transaction_row(
        partner=partner,
        body=body,
        correlation_id=correlation_id,
        action="search",
        status="succ",
        requests=request_states(responses),
        now=now,
        record_count=audit.record_count,
        completed_at=now,
    )
    await repository.add_transaction(session, row)
    await audit_search(session, audit)
    return on_search_body(partner, message, correlation_id, responses, now)


@dataclass(frozen=True)
class SearchAudit:
    """What one answered search message delivered, to be audited."""

    partner: Mapping[Any, Any]
    message: Mapping[Any, Any]
    correlation_id: str
    delivered: list[dict[str, str]]
    purposes: list[str]
    allowed: frozenset[str]

    @property
    def record_count(self) -> int:
        """How many records left Tepat."""
        return len(self.delivered)


async def audit_search(session: AsyncSession, audit: SearchAudit) -> None:
    """The personal-data access rows the registry keeps for every reveal (when NIK / No. KK left Tepat), then one
    audit entry per search (partner, consent purposes, fields, every record id), which is also the reveal's.

    Call it as the last write before the commit: the audit chain is appended under a lock held until the
    transaction ends, so every statement after it would make concurrent searches wait longer."""
    partner, message, delivered, allowed = audit.partner, audit.message, audit.delivered, audit.allowed
    actor = f"dci:{partner['sender_id']}"
    purpose = "; ".join(sorted(set(audit.purposes))) or f"DCI transaction {message['transaction_id']}"
    if "identifier" in allowed and delivered:
        viewer = Viewer(
            Principal(subject=actor, role=Role.SYSTEM, wilayah=partner["wilayah"][0], client_type="dci"),
            reveal=True,
            purpose=purpose[:300],
        )
        targets = [(d["family_id"], d["id"] if d["type"] == "member" else None) for d in delivered]
        # The search's own entry below names every record and field, so the reveal adds no second entry.
        await record_access(session, viewer, targets, "dci:" + ",".join(sorted(allowed))[:190], chained=False)
    consents = [r["search_criteria"].get("consent") for r in message["search_request"] if "search_criteria" in r]
    await AUDIT.record(
        session,
        actor=actor,
        role="dci_partner",
        action="dci search",
        record_type="dci_transaction",
        record_id=audit.correlation_id,
        purpose=purpose[:300],
        after={
            "transaction_id": message["transaction_id"],
            "fields": sorted(allowed),
            "consent": [c for c in consents if c],
            "records": [[d["type"], d["id"]] for d in delivered],
        },
        request_id=request_id_var.get(),
    )


def _reported(
    transaction: Mapping[Any, Any], item: dict[str, Any], callback: Mapping[Any, Any] | None
) -> dict[str, Any]:
    """One request's status as txn/status reports it: an async search is rcvd until searched, pdng while its
    on-search is being delivered, its own outcome once delivered, rjct when the callback went dead."""
    at = {"timestamp": ts(transaction["completed_at"] or transaction["received_at"])}
    state = transaction["status"]
    if state == "rcvd":
        return {"reference_id": item["reference_id"], "status": "rcvd", "status_reason_message": "queued", **at}
    if state == "pdng":
        note = "answered; on-search callback being delivered"
        if callback is not None and callback["attempts"]:
            note += f" (attempt {callback['attempts']} failed: {callback['last_error'] or ''})"
        return {"reference_id": item["reference_id"], "status": "pdng", "status_reason_message": note[:999], **at}
    if state == "rjct" and callback is not None and callback["status"] == "dead":
        note = f"on-search could not be delivered after {callback['attempts']} attempts: {callback['last_error']}"
        return {"reference_id": item["reference_id"], "status": "rjct", "status_reason_message": note[:999], **at}
    return {**item, **at}


async def sync_txn_status(
    session: AsyncSession,
    *,
    body: dict[str, Any],
    partner: Mapping[Any, Any],
    now: datetime,
    action: str = "txn-status",
    correlation_id: str | None = None,
) -> dict[str, Any]:
    """Report what became of the partner's earlier messages: per reference_id, its status and reason (as the
    async answer, txn-on-status, when `correlation_id` is given: that request is then pending its callback)."""
    message = body["message"]
    request = message["txnstatus_request"]

    def reject(code: str | None, text: str) -> dict[str, Any]:
        answer_header = callback_header(
            action="txn-on-status", partner=partner, now=now, status="rjct", total=1, completed=0
        )
        answer_header["status_reason_message"] = text
        if code:
            answer_header["status_reason_code"] = code
        return {"header": answer_header}

    if partner["message_seen"]:
        return reject("rjct.message_id.duplicate", "message_id already used")
    if request["txn_type"] != "search":
        return reject(None, f"txn_type '{request['txn_type']}' is not offered by this registry (search only)")
    kind, value = request["attribute_type"], request["attribute_value"]
    wanted: set[str] | None = None
    if kind == "transaction_id" and isinstance(value, str):
        found = await repository.transactions(session, partner["sender_id"], transaction_id=value)
    elif kind == "correlation_id" and isinstance(value, str):
        found = await repository.transactions(session, partner["sender_id"], correlation_id=value)
    elif kind == "reference_id_list" and isinstance(value, list):
        found = await repository.transactions(session, partner["sender_id"], transaction_id=message["transaction_id"])
        wanted = {str(v) for v in value}
    else:
        return reject(None, f"attribute_value does not fit attribute_type '{kind}'")
    searches = [t for t in found if t["action"] == "search"]
    callbacks = await repository.callback_states(session, [t["correlation_id"] for t in searches])
    items = [
        _reported(t, r, callbacks.get(t["correlation_id"]))
        for t in searches
        for r in t["requests"]
        if wanted is None or r["reference_id"] in wanted
    ]
    row = transaction_row(
        partner=partner,
        body=body,
        correlation_id=correlation_id or str(uuid.uuid4()),
        action=action,
        status="pdng" if correlation_id else "succ" if items else "rjct",
        requests=[{"reference_id": request["reference_id"], "status": "succ" if items else "rjct"}],
        now=now,
        completed_at=now,
    )
    await repository.add_transaction(session, row)
    if not items:
        return reject(None, "no search of this sender matches")
    first = searches[0]
    return {
        "header": callback_header(
            action="txn-on-status", partner=partner, now=now, status="succ", total=1, completed=1
        ),
        "message": {
            "transaction_id": message["transaction_id"],
            "correlation_id": first["correlation_id"],
            "txnstatus_response": {
                "txn_type": "search",
                "txn_status": {
                    "transaction_id": first["transaction_id"],
                    "correlation_id": first["correlation_id"],
                    "search_response": items,
                },
            },
        },
    }
