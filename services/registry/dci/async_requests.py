"""The async DCI endpoints: search, txn/status, subscribe and unsubscribe answer an ACK at once; the answer goes
to the partner's callback URI from the `dci_callback` outbox (delivery.py).

An async search is stored as a `dci_transaction` with its message (status rcvd) and answered by the `dci-callbacks`
job (status pdng while its on-search is being delivered, succ once delivered, rjct when the callback went dead), so
it survives a restart. txn/status, subscribe and unsubscribe are cheap: answered in the request, their callbacks
queued in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.dci import repository
from services.registry.dci.query import CriteriaError, Search, parse_criteria
from services.registry.dci.service import (
    MAX_BATCH,
    DciError,
    answer_requests,
    audit_search,
    callback_header,
    header_checks,
    on_search_body,
    request_states,
    sync_txn_status,
    transaction_row,
    ts,
)

GROUP = "Group"
# Subscriptions: REGISTER = every change of a selected family; DEREGISTER = a member leaves or dies, or the family
# becomes inactive. Tepat's register has no PAYMENT events.
EVENT_TYPES = ("REGISTER", "DEREGISTER")


def ack(correlation_id: str, now: datetime) -> dict[str, Any]:
    """The spec's Response: the message was received and its signature checked."""
    return {"message": {"ack_status": "ACK", "timestamp": ts(now), "correlation_id": correlation_id}}


def callback_uri(partner: Mapping[Any, Any], header: Mapping[str, Any]) -> str:
    """Where the answer goes: the header's sender_uri if the partner registered it, else its first URI."""
    registered = list(partner["callback_uris"])
    wanted = header.get("sender_uri")
    if wanted is not None:
        if wanted not in registered:
            raise DciError(400, "err.sender_uri.invalid", "sender_uri is not a callback URI registered for the sender")
        return str(wanted)
    if not registered:
        raise DciError(400, "err.sender_uri.invalid", "The sender has no registered callback URI.")
    return str(registered[0])


def callback_row(
    *,
    partner: Mapping[Any, Any],
    uri: str,
    body: dict[str, Any],
    now: datetime,
    correlation_id: str | None,
    family_id: str | None = None,
) -> dict[str, Any]:
    """A queued callback; its message id is the header's (fixed now, the same on every retry)."""
    return {
        "sender_id": partner["sender_id"],
        "message_id": body["header"]["message_id"],
        "correlation_id": correlation_id,
        "action": body["header"]["action"],
        "uri": uri,
        "body": body,
        "family_id": family_id,
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


async def accept_search(
    session: AsyncSession, *, body: dict[str, Any], partner: Mapping[Any, Any], now: datetime
) -> dict[str, Any]:
    """Store an async search to be answered by the job (a header-level refusal is queued as an rjct on-search)."""
    header, message = body["header"], body["message"]
    uri = callback_uri(partner, header)
    correlation_id = str(uuid.uuid4())
    refused = header_checks(partner, header, len(message["search_request"]), now, partner["message_seen"])
    if refused is not None:
        refused["message"] = {"transaction_id": message["transaction_id"], "correlation_id": correlation_id}
        await repository.add_callbacks(
            session, [callback_row(partner=partner, uri=uri, body=refused, now=now, correlation_id=None)]
        )
        return ack(correlation_id, now)
    row = transaction_row(
        partner=partner,
        body=body,
        correlation_id=correlation_id,
        action="search",
        status="rcvd",
        requests=[{"reference_id": r["reference_id"], "status": "rcvd"} for r in message["search_request"]],
        now=now,
        pending_message=message,
        callback_uri=uri,
    )
    await repository.add_transaction(session, row)
    return ack(correlation_id, now)


async def answer_pending(session: AsyncSession, *, now: datetime, today: date, limit: int = MAX_BATCH) -> int:
    """Search for the stored async requests and queue their on-search callbacks; how many were answered."""
    pending = await repository.pending_transactions(session, limit)
    if not pending:
        return 0
    partners = {p["sender_id"]: p for p in await repository.list_partners(session)}
    callbacks = []
    audits = []
    for txn in pending:
        partner = partners.get(txn["sender_id"])
        if partner is None or not partner["active"]:
            await repository.answer_transaction(session, txn["correlation_id"], {"status": "rjct", "completed_at": now})
            continue
        message = txn["pending_message"]
        responses, audit = await answer_requests(
            session, message=message, partner=partner, correlation_id=txn["correlation_id"], now=now, today=today
        )
        audits.append(audit)
        body = on_search_body(partner, message, txn["correlation_id"], responses, now)
        callbacks.append(
            callback_row(
                partner=partner, uri=txn["callback_uri"], body=body, now=now, correlation_id=txn["correlation_id"]
            )
        )
        await repository.answer_transaction(
            session,
            txn["correlation_id"],
            {"status": "pdng", "requests": request_states(responses), "record_count": audit.record_count},
        )
    await repository.add_callbacks(session, callbacks)
    # Audited last, so the audit chain's lock is held only until this run commits.
    for audit in audits:
        await audit_search(session, audit)
    return len(pending)


async def accept_txn_status(
    session: AsyncSession, *, body: dict[str, Any], partner: Mapping[Any, Any], now: datetime
) -> dict[str, Any]:
    """Answer txn/status as a txn-on-status callback."""
    uri = callback_uri(partner, body["header"])
    correlation_id = str(uuid.uuid4())
    answer = await sync_txn_status(
        session, body=body, partner=partner, now=now, action="txn-status", correlation_id=correlation_id
    )
    # The callback answers this request: its correlation id is the ACK's (txn_status names the searched one).
    answer.setdefault("message", {"transaction_id": body["message"]["transaction_id"]})
    answer["message"]["correlation_id"] = correlation_id
    row = callback_row(partner=partner, uri=uri, body=answer, now=now, correlation_id=correlation_id)
    await repository.add_callbacks(session, [row])
    return ack(correlation_id, now)


def subscription_filter(criteria: Mapping[str, Any], partner: Mapping[Any, Any]) -> Search:
    """A subscription's filter as a Group search inside the partner's wilayah and query types."""
    return parse_criteria(
        {
            "query_type": criteria.get("filter_type") or "predicate",
            "query": criteria["filter"],
            "reg_record_type": GROUP,
        },
        query_types=list(partner["query_types"]),
        scope=list(partner["wilayah"]),
    )


async def _transaction(
    session: AsyncSession, *, body: dict[str, Any], partner: Mapping[Any, Any], action: str, now: datetime
) -> str:
    """Record a subscribe / unsubscribe message (pending until its callback is delivered); its correlation id."""
    if partner["message_seen"]:
        raise DciError(400, "err.request.bad", "message_id already used (rjct.message_id.duplicate)")
    correlation_id = str(uuid.uuid4())
    row = transaction_row(
        partner=partner, body=body, correlation_id=correlation_id, action=action, status="pdng", requests=[], now=now
    )
    await repository.add_transaction(session, row)
    return correlation_id


async def subscribe(
    session: AsyncSession, *, body: dict[str, Any], partner: Mapping[Any, Any], now: datetime
) -> dict[str, Any]:
    """Store the subscriptions whose filter the partner may use; on-subscribe tells their codes."""
    header, message = body["header"], body["message"]
    uri = callback_uri(partner, header)
    correlation_id = await _transaction(session, body=body, partner=partner, action="subscribe", now=now)
    responses: list[dict[str, Any]] = []
    stored: list[dict[str, Any]] = []
    for item in message["subscribe_request"]:
        criteria = item["subscribe_criteria"]
        answer: dict[str, Any] = {"reference_id": item["reference_id"], "timestamp": ts(now)}
        responses.append(answer)
        if criteria["reg_event_type"] not in EVENT_TYPES:
            answer.update(status="rjct", status_reason_code="rjct.notify_types.invalid")
            answer["status_reason_message"] = f"reg_event_type must be one of {list(EVENT_TYPES)}"
            continue
        if str(criteria["notify_record_type"]).rsplit(":", 1)[-1] != GROUP:
            answer.update(status="rjct", status_reason_code="rjct.notify_types.invalid")
            answer["status_reason_message"] = "notify_record_type must be Group (families are notified)"
            continue
        try:
            subscription_filter(criteria, partner)
        except CriteriaError as exc:
            answer.update(status="rjct", status_reason_code="rjct.notify_details.invalid")
            answer["status_reason_message"] = exc.message
            continue
        code = str(uuid.uuid4())
        stored.append(
            {
                "code": code,
                "sender_id": partner["sender_id"],
                "reference_id": item["reference_id"],
                "reg_event_type": criteria["reg_event_type"],
                "filter_type": criteria.get("filter_type") or "predicate",
                "criteria": criteria,
                "uri": uri,
                "status": "subscribe",
                "created_at": now,
            }
        )
        answer.update(
            status="succ",
            subscriptions=[
                {
                    "code": code,
                    # The published schema requires these two names although it defines `code` and the criteria
                    # fields: both spellings are sent so either reading validates.
                    "subscription_code": code,
                    "subscribe_criteria": criteria,
                    "status": "subscribe",
                    "timestamp": ts(now),
                    "reg_event_type": criteria["reg_event_type"],
                    "filter_type": criteria.get("filter_type") or "predicate",
                    "filter": criteria["filter"],
                    "notify_record_type": GROUP,
                }
            ],
        )
    await repository.add_subscriptions(session, stored)
    count = len(responses)
    answer_body = {
        "header": callback_header(
            action="on-subscribe", partner=partner, now=now, status="succ", total=count, completed=count
        ),
        "message": {
            "transaction_id": message["transaction_id"],
            "correlation_id": correlation_id,
            "subscribe_response": responses,
        },
    }
    row = callback_row(partner=partner, uri=uri, body=answer_body, now=now, correlation_id=correlation_id)
    await repository.add_callbacks(session, [row])
    return ack(correlation_id, now)


async def unsubscribe(
    session: AsyncSession, *, body: dict[str, Any], partner: Mapping[Any, Any], now: datetime
) -> dict[str, Any]:
    """End the partner's subscriptions by code; on-unsubscribe reports each one."""
    header, message = body["header"], body["message"]
    uri = callback_uri(partner, header)
    correlation_id = await _transaction(session, body=body, partner=partner, action="unsubscribe", now=now)
    codes = [str(c) for c in message["subscription_codes"]]
    ended = await repository.end_subscriptions(session, partner["sender_id"], codes, now)
    unknown = [c for c in codes if c not in ended]
    answer: dict[str, Any] = {
        "transaction_id": message["transaction_id"],
        "correlation_id": correlation_id,
        "timestamp": ts(now),
        "status": "rjct" if unknown else "succ",
        "subscription_status": [{"code": c, "status": "unsubscribe"} for c in codes if c in ended],
    }
    if unknown:
        answer["status_reason_code"] = "rjct.subscription_code.invalid"
        answer["status_reason_message"] = f"not an active subscription of this sender: {unknown}"[:999]
    answer_body = {
        "header": callback_header(
            action="on-unsubscribe", partner=partner, now=now, status="succ", total=1, completed=1
        ),
        "message": answer,
    }
    row = callback_row(partner=partner, uri=uri, body=answer_body, now=now, correlation_id=correlation_id)
    await repository.add_callbacks(session, [row])
    return ack(correlation_id, now)
