"""Helpers of the disbursement tests: household events, feeding the inbox, users, CSV files."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.bus.base import IncomingRecord
from shared.events.envelope import EventEnvelope, utcnow
from shared.events.household import HouseholdEventType, VerificationEventType
from shared.events.topics import REGISTRY_HOUSEHOLD, VERIFICATION_OUTCOME
from shared.runtime.service import ServiceRuntime
from tests.support.api import auth


def household_envelope(
    household_id: str,
    version: int,
    *,
    kelurahan: str = "13.71.01.1001",
    desil: int | None = 3,
    status: str = "active",
    reason: str | None = None,
    confirmed: Sequence[str] = (),
    open_flags: Sequence[str] = (),
    members: int = 4,
    event_type: str = HouseholdEventType.UPDATED.value,
    recipient: str | None = None,
    **composition: int,
) -> EventEnvelope:
    """A registry.household.v1 event carrying the family's state (PII-free)."""
    now = utcnow()
    return EventEnvelope(
        event_type=event_type,
        source="registry",
        subject=household_id,
        aggregate_version=version,
        occurred_at=now,
        recorded_at=now,
        data={
            "household_id": household_id,
            "kecamatan_code": kelurahan.rsplit(".", 1)[0],
            "kelurahan_code": kelurahan,
            "data_status": status,
            "status_reason": reason,
            "desil": desil,
            "desil_period": "2026-Q1",
            "recipient_member_id": recipient,
            "open_flags": list(open_flags),
            "confirmed_flags": list(confirmed),
            "composition": {"members": members, **composition},
        },
    )


def outcome_envelope(
    household_id: str, outcome: str, verified_at: datetime, reason: str | None = None
) -> EventEnvelope:
    """A verification.completed event."""
    now = utcnow()
    return EventEnvelope(
        event_type=VerificationEventType.COMPLETED.value,
        source="verification",
        subject=household_id,
        aggregate_version=1,
        occurred_at=now,
        recorded_at=now,
        data={
            "household_id": household_id,
            "check_id": str(uuid.uuid4()),
            "outcome": outcome,
            "reason": reason,
            "verified_at": verified_at.astimezone(UTC).isoformat(),
            "officer_role": "tksk",
        },
    )


def record(envelope: EventEnvelope) -> IncomingRecord:
    """The envelope as the consumer receives it from the bus."""
    topic = VERIFICATION_OUTCOME if envelope.source == "verification" else REGISTRY_HOUSEHOLD
    return IncomingRecord(topic=topic, value=envelope.to_bytes(), partition=0, offset=0)


async def feed(runtime: ServiceRuntime, envelopes: Sequence[EventEnvelope]) -> None:
    """Apply events through the service's own inbox consumer (the path Kafka deliveries take)."""
    consumer = runtime.make_consumer()
    assert consumer is not None
    dead = await consumer.process([record(e) for e in envelopes])
    assert not dead, [d.error for d in dead]


def users(data_dir: Path) -> dict[str, dict[str, str]]:
    """Bearer headers of the people in the tests."""
    return {
        "prep": auth(data_dir, "verifikator", "13.71", subject="prep"),
        "kadis": auth(data_dir, "kepala_dinas", "13.71", subject="kadis"),
        "tksk01": auth(data_dir, "tksk", "13.71.01", subject="tksk01"),
        "lurah": auth(data_dir, "lurah", "13.71.02.1001", subject="lurah"),
        "system": auth(data_dir, "system", "13.71", subject="bank-bri"),
    }


def csv_bytes(rows: Sequence[dict[str, Any]]) -> bytes:
    """A payer CSV file."""
    cols = [
        "line_id",
        "programme_code",
        "tahap_id",
        "household_id",
        "status",
        "amount",
        "date",
        "reference",
        "failure_reason",
    ]
    lines = [",".join(cols)]
    for r in rows:
        lines.append(",".join("" if r.get(c) is None else str(r[c]) for c in cols))
    return ("\n".join(lines) + "\n").encode()


SIMPLE_RULE: dict[str, Any] = {
    "effective_from": "2025-01-01",
    "definition": {
        "desil_min": 1,
        "desil_max": 4,
        "quota": None,
        "tie_breakers": ["larger_family_first"],
        "amount": {"kind": "flat", "amount": 600000},
    },
}


def random_households(n: int, seed: int) -> tuple[list[EventEnvelope], list[EventEnvelope]]:
    """A varied population (household events, verification outcomes) for the SQL-vs-function agreement test."""
    import random

    rng = random.Random(seed)
    households: list[EventEnvelope] = []
    outcomes: list[EventEnvelope] = []
    for i in range(n):
        hid = f"g{i:04d}-{rng.randrange(10**6):06d}"
        status = rng.choice(["active"] * 6 + ["needs_verification", "inactive"])
        households.append(
            household_envelope(
                hid,
                1,
                kelurahan=f"13.71.{rng.randint(1, 11):02d}.{1000 + rng.randint(1, 3)}",
                desil=rng.choice([None, *range(1, 11)]),
                status=status,
                reason=rng.choice(["deceased", "moved", "all_deceased"]) if status == "inactive" else None,
                confirmed=rng.sample(
                    ["car_owner", "deceased_dukcapil", "sex_nik_mismatch", "excluded_occupation"], rng.randint(0, 1)
                ),
                members=rng.randint(1, 8),
                pregnant=rng.randint(0, 3),
                children_0_6=rng.randint(0, 3),
                school_sd=rng.randint(0, 3),
                elderly_70=rng.randint(0, 2),
                disabled_severe=rng.randint(0, 1),
            )
        )
        if rng.random() < 0.7:
            when = (
                datetime(2024, 1, 1, tzinfo=UTC)
                + (datetime(2026, 3, 1, tzinfo=UTC) - datetime(2024, 1, 1, tzinfo=UTC)) * rng.random()
            )
            # Ties on purpose: the tie-breakers must order equal timestamps the same way.
            when = when.replace(minute=0, second=0, microsecond=0)
            outcomes.append(outcome_envelope(hid, rng.choice(["layak", "layak", "tidak_layak"]), when))
    return households, outcomes
