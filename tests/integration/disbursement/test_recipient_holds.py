"""A dead recipient holds the family's frozen lines; naming a new one releases them (issue 12 item 4), on
PostgreSQL and SQLite, through the service's own inbox consumer."""

from __future__ import annotations

import json

import pytest

from tests.integration.disbursement.conftest import Service
from tests.integration.disbursement.flows import add_rule, approve, generate, lines, new_tahap
from tests.integration.disbursement.support import feed, household_envelope

HEAD, WIFE = "m-head-0001", "m-wife-0002"


async def _dead_recipient_then_replaced(svc: Service) -> None:
    await feed(svc.runtime, [household_envelope(f"r{i}", 1, desil=2, recipient=f"{HEAD}-{i}") for i in range(2)])
    tahap_id = await new_tahap(svc, "2026-I", await add_rule(svc))
    await generate(svc, tahap_id)
    by_hh = await lines(svc, tahap_id)
    assert (by_hh["r0"]["recipient_member_id"], by_hh["r0"]["status"]) == (f"{HEAD}-0", "planned")
    await approve(svc, tahap_id)

    # The head (the recipient) died: the registry raises recipient_deceased; the family stays eligible.
    dead = household_envelope("r0", 2, desil=2, recipient=f"{HEAD}-0", open_flags=["recipient_deceased"])
    await feed(svc.runtime, [dead])
    await feed(svc.runtime, [dead])  # redelivery changes nothing
    by_hh = await lines(svc, tahap_id)
    assert (by_hh["r0"]["status"], by_hh["r0"]["hold_reason"], by_hh["r0"]["held_from"]) == (
        "on_hold",
        "recipient_deceased",
        "planned",
    )
    assert by_hh["r1"]["status"] == "planned"

    # A verified recipient change names the wife; the flag clears and the line goes back where it was.
    replaced = household_envelope("r0", 4, desil=2, recipient=WIFE)
    await feed(svc.runtime, [replaced])
    line = (await lines(svc, tahap_id))["r0"]
    assert (line["status"], line["hold_reason"], line["held_from"]) == ("planned", None, None)
    assert (line["recipient_member_id"], line["decided_by"]) == (WIFE, "system")
    await feed(svc.runtime, [replaced])
    assert (await lines(svc, tahap_id))["r0"]["version"] == line["version"]
    events = await svc.rows(
        "SELECT data FROM outbox WHERE event_type = 'payment.line_status_changed' AND subject = 'r0' ORDER BY id"
    )
    assert [json.loads(d)["status"] for (d,) in events] == ["on_hold", "planned"]

    # A recipient death on a family a rule also disqualifies: the rule's reason wins, the flag does not stack.
    both = household_envelope("r1", 2, status="inactive", reason="moved", open_flags=["recipient_deceased"])
    await feed(svc.runtime, [both])
    assert (await lines(svc, tahap_id))["r1"]["hold_reason"] == "data_inactive"


async def _listed_while_recipient_dead(svc: Service) -> None:
    # The flag leaves the family active: it is listed, and its line starts on hold.
    flagged = household_envelope("n0", 1, desil=2, recipient=HEAD, open_flags=["recipient_deceased"])
    await feed(svc.runtime, [flagged, household_envelope("n1", 1, desil=2, recipient=WIFE)])
    tahap_id = await new_tahap(svc, "2026-I", await add_rule(svc))
    assert (await generate(svc, tahap_id))["listed_count"] == 2
    by_hh = await lines(svc, tahap_id)
    assert (by_hh["n0"]["status"], by_hh["n0"]["hold_reason"], by_hh["n0"]["held_from"]) == (
        "on_hold",
        "recipient_deceased",
        "planned",
    )
    assert by_hh["n1"]["status"] == "planned"
    await feed(svc.runtime, [household_envelope("n0", 2, desil=2, recipient=WIFE)])
    line = (await lines(svc, tahap_id))["n0"]
    assert (line["status"], line["recipient_member_id"]) == ("planned", WIFE)


@pytest.mark.infra
async def test_recipient_hold_on_postgresql(pg_service: Service) -> None:
    await _dead_recipient_then_replaced(pg_service)


@pytest.mark.infra
async def test_line_of_a_family_listed_while_its_recipient_is_dead_starts_held(pg_service: Service) -> None:
    await _listed_while_recipient_dead(pg_service)


async def test_recipient_hold_on_sqlite(sqlite_service: Service) -> None:
    await _dead_recipient_then_replaced(sqlite_service)


async def test_listed_while_recipient_dead_on_sqlite(sqlite_service: Service) -> None:
    await _listed_while_recipient_dead(sqlite_service)
