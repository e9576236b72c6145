"""DCI notify: the registry's own `registry.household.v1` events, consumed through its inbox, become `notify`
callbacks to every partner whose subscription selects the family.

Why the inbox and not the outbox table: the inbox already gives exactly-once application per event id, in the
order of the topic's partition (keyed by family, so one family's events arrive in order), and it is how every
other reader learns of a change; the `dci_callback` rows it writes carry a message id derived from event id and
subscription code, so even a replayed event queues nothing twice, and delivery keeps one family's notifications
in order (delivery.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.dci import repository
from services.registry.dci.async_requests import GROUP, callback_row, subscription_filter
from services.registry.dci.query import CriteriaError
from services.registry.dci.records import group
from services.registry.dci.service import VERSION, callback_header
from services.registry.domain.identifiers import today_wib
from shared.events.envelope import EventEnvelope
from shared.events.household import DataStatus, HouseholdEventType
from shared.inbox.consumer import BatchHandler

# A stable namespace: the same event and subscription always give the same notify message id.
_MESSAGE_IDS = uuid.UUID("5d1c2f4e-8a7b-4c3d-9e1f-0a2b3c4d5e6f")
REG_TYPE = "ns:org:RegistryType:Social"
_DEREGISTER = {HouseholdEventType.MEMBER_REMOVED, HouseholdEventType.MEMBER_DECEASED}


def event_types_of(envelope: EventEnvelope) -> set[str]:
    """The subscription event types this household event counts as (REGISTER: every change)."""
    kinds = {"REGISTER"}
    if envelope.event_type in _DEREGISTER or envelope.data.get("data_status") == DataStatus.INACTIVE:
        kinds.add("DEREGISTER")
    return kinds


def notify_message_id(event_id: uuid.UUID, code: str) -> str:
    """The message id of one event's notify to one subscription."""
    return str(uuid.uuid5(_MESSAGE_IDS, f"{event_id}:{code}"))


async def queue_notifications(session: AsyncSession, envelopes: Sequence[EventEnvelope], *, today: date) -> int:
    """Queue a notify for every (event, subscription) whose filter selects the event's family; how many."""
    subscriptions = await repository.active_subscriptions(session)
    if not subscriptions:
        return 0
    partners = {p["sender_id"]: p for p in await repository.list_partners(session) if p["active"]}
    family_ids = sorted({e.subject for e in envelopes})
    families = await repository.family_rows(session, family_ids)
    selected: dict[str, set[str]] = {}
    for sub in subscriptions:
        partner = partners.get(sub["sender_id"])
        if partner is None:
            continue
        try:
            search = subscription_filter(sub["criteria"], partner)
        except CriteriaError:
            continue  # the partner's rights narrowed since it subscribed: nothing to send
        selected[sub["code"]] = await repository.families_matching(
            session, family_ids, search, list(partner["wilayah"]), today
        )
    members = await repository.members_of(session, family_ids)
    rows = []
    for envelope in envelopes:
        kinds = event_types_of(envelope)
        record_row = families.get(envelope.subject)
        for sub in subscriptions:
            partner = partners.get(sub["sender_id"])
            if (
                partner is None
                or record_row is None
                or sub["reg_event_type"] not in kinds
                or envelope.subject not in selected.get(sub["code"], set())
            ):
                continue
            allowed = frozenset(partner["fields"])
            record = group(
                record_row, members.get(envelope.subject, []) if "members" in allowed else [], allowed, today
            )
            stamp = envelope.occurred_at.isoformat(timespec="seconds")
            header = callback_header(
                action="notify", partner=partner, now=envelope.recorded_at, status="succ", total=1, completed=1
            )
            header["message_id"] = notify_message_id(envelope.event_id, sub["code"])
            body = {
                "header": header,
                "message": {
                    "transaction_id": sub["code"],
                    "notify_event": [
                        {
                            "reference_id": str(envelope.event_id),
                            "timestamp": stamp,
                            "data": {
                                "version": VERSION,
                                "reg_type": REG_TYPE,
                                "reg_event_type": f"tepat:{envelope.event_type}",
                                "reg_record_type": GROUP,
                                "reg_records": record,
                            },
                        }
                    ],
                },
            }
            rows.append(
                callback_row(
                    partner=partner,
                    uri=sub["uri"],
                    body=body,
                    now=envelope.recorded_at,
                    correlation_id=None,
                    family_id=envelope.subject,
                )
            )
    await repository.add_callbacks_once(session, rows)
    return len(rows)


async def _on_household(session: AsyncSession, envelopes: Sequence[EventEnvelope]) -> None:
    await queue_notifications(session, envelopes, today=today_wib())


HANDLER = BatchHandler(_on_household)
HANDLERS: dict[str, Any] = {t.value: HANDLER for t in HouseholdEventType}
