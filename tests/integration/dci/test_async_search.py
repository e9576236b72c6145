"""DCI async search and txn/status against the real PostgreSQL: ACK, the on-search callback from the delivery
outbox (a receiver that is down, then fails, then recovers: nothing lost, one message id), the dead-letter state
operators list and retry, and txn/status reporting each step truthfully."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.registry.dci import spec
from shared.auth.principal import Role
from shared.events.envelope import utcnow
from tests.integration.dci.callbacks import (
    ASYNC,
    callback_rows,
    check_ack,
    check_callback,
    run_dci_job,
)
from tests.integration.dci.conftest import register
from tests.integration.dci.partner import Partner, by_id, predicate, search_message
from tests.integration.dci.receiver import Receiver
from tests.integration.registry.conftest import Registry
from tests.integration.registry.helpers import KEL_SELATAN, family_body, kk
from tests.support.api import auth

STATUS = "/dci/social/registry/sync/txn/status"
STATUS_ANSWER = "#/paths/~1registry~1sync~1txn~1status/post/responses/default/content/application~1json/schema"


async def _status_of(registry: Registry, partner: Partner, transaction_id: str) -> list[dict[str, Any]]:
    message = {
        "transaction_id": f"status-{transaction_id}",
        "txnstatus_request": {
            "reference_id": "s1",
            "txn_type": "search",
            "attribute_type": "transaction_id",
            "attribute_value": transaction_id,
        },
    }
    r = await registry.client.post(
        STATUS, json=partner.envelope(message, action="txn-status", total=1), headers=partner.headers()
    )
    assert r.status_code == 200, r.text
    assert spec.problems(spec.validator(STATUS_ANSWER), r.json()) == []
    items: list[dict[str, Any]] = r.json()["message"]["txnstatus_response"]["txn_status"]["search_response"]
    return items


async def _async_search(registry: Registry, partner: Partner, message: dict[str, Any], **header: Any) -> httpx.Response:
    return await registry.client.post(
        f"{ASYNC}/search", json=partner.envelope(message, **header), headers=partner.headers()
    )


async def test_async_search_survives_a_receiver_that_is_down_then_fails_then_recovers(dci_registry: Registry) -> None:
    registry = dci_registry
    made = await registry.as_(Role.VERIFIKATOR).create(family_body(no_kk=kk(1), kelurahan=KEL_SELATAN))
    receiver = Receiver()  # not listening yet: connection refused
    bank = Partner("bank.example.id", registry.data_dir)
    await register(registry, bank, callback_uris=[receiver.uri()])
    message = search_message(by_id("KK", kk(1)), predicate(("wilayah", "eq", "13.72")))
    r = await _async_search(registry, bank, message)
    assert r.status_code == 200, r.text
    correlation_id = check_ack(r.json())
    txn = message["transaction_id"]
    assert [s["status"] for s in await _status_of(registry, bank, txn)] == ["rcvd", "rcvd"]

    now = utcnow()
    try:
        assert await run_dci_job(registry, now) == {"answered": 1, "delivered": 0, "retry": 1, "dead": 0}
        pending = await _status_of(registry, bank, txn)
        assert [s["status"] for s in pending] == ["pdng", "pdng"]
        assert "attempt 1 failed" in pending[0]["status_reason_message"]
        # Not due before its backoff (10 s after the first failure); then the receiver answers 503.
        assert (await run_dci_job(registry, now + timedelta(seconds=9)))["retry"] == 0
        receiver.failing = True
        receiver.start()
        assert (await run_dci_job(registry, now + timedelta(seconds=11)))["retry"] == 1
        (row,) = await callback_rows(registry, correlation_id=correlation_id)
        assert (row["status"], row["attempts"]) == ("queued", 2)
        assert row["next_attempt_at"] == now + timedelta(seconds=11 + 20)  # doubled backoff
        receiver.failing = False
        assert (await run_dci_job(registry, now + timedelta(seconds=31)))["delivered"] == 1
        # Nothing more goes out later: delivered once, with the message id fixed when it was queued.
        assert (await run_dci_job(registry, now + timedelta(hours=2)))["delivered"] == 0
    finally:
        receiver.stop()
    assert len(receiver.received) == 1
    path, body = receiver.received[0]
    assert path == "/on-search"
    check_callback(registry, body, "on-search", None)
    assert body["header"]["message_id"] == row["message_id"]
    assert body["message"]["correlation_id"] == correlation_id
    found, outside = body["message"]["search_response"]
    assert found["status"] == "succ"
    assert [g["household_identifier"] for g in found["data"]["reg_records"]] == [made["id"]]
    assert (outside["status"], outside["status_reason_code"]) == ("rjct", "rjct.search_criteria.invalid")
    assert [(s["status"], s.get("status_reason_code")) for s in await _status_of(registry, bank, txn)] == [
        ("succ", None),
        ("rjct", "rjct.search_criteria.invalid"),
    ]


async def test_dead_callback_is_listed_retried_by_an_operator_and_reported(dci_registry: Registry) -> None:
    registry = dci_registry
    receiver = Receiver()
    receiver.failing = True
    receiver.start()
    bank = Partner("bank.example.id", registry.data_dir)
    await register(registry, bank, callback_uris=[receiver.uri()])
    message = search_message(by_id("KK", kk(9)))
    correlation_id = check_ack((await _async_search(registry, bank, message)).json())
    now = utcnow()
    ops = auth(registry.data_dir, "system")
    try:
        outcomes = [await run_dci_job(registry, now + timedelta(seconds=30 * i)) for i in range(4)]
        assert [(o["retry"], o["dead"]) for o in outcomes] == [(1, 0), (1, 0), (1, 0), (0, 1)]
        dead = (await registry.client.get("/dci/callbacks", params={"status": "dead"}, headers=ops)).json()
        assert [(d["correlation_id"], d["attempts"], d["action"]) for d in dead] == [(correlation_id, 4, "on-search")]
        assert "503" in dead[0]["last_error"]
        (reported,) = await _status_of(registry, bank, message["transaction_id"])
        assert reported["status"] == "rjct"
        assert "could not be delivered after 4 attempts" in reported["status_reason_message"]
        # Only operators list or retry; an unknown or not-dead id is a 404 problem.
        operator = auth(registry.data_dir, "operator_kelurahan", KEL_SELATAN)
        assert (await registry.client.get("/dci/callbacks", headers=operator)).status_code == 403
        r = await registry.client.post(f"/dci/callbacks/{dead[0]['id']}/retry", headers=ops)
        assert r.status_code == 200, r.text
        assert r.json() == {"retried": 1}
        assert (await registry.client.post(f"/dci/callbacks/{dead[0]['id']}/retry", headers=ops)).status_code == 404
        assert (await _status_of(registry, bank, message["transaction_id"]))[0]["status"] == "pdng"
        receiver.failing = False
        assert (await run_dci_job(registry, now + timedelta(seconds=200)))["delivered"] == 1
    finally:
        receiver.stop()
    assert [b["header"]["action"] for _, b in receiver.received] == ["on-search"]
    assert (await _status_of(registry, bank, message["transaction_id"]))[0]["status"] == "succ"


async def test_async_txn_status_answers_by_callback(dci_registry: Registry) -> None:
    registry = dci_registry
    receiver = Receiver()
    receiver.start()
    bank = Partner("bank.example.id", registry.data_dir)
    await register(registry, bank, callback_uris=[receiver.uri("/other"), receiver.uri("/on-status")])
    message = search_message(by_id("KK", kk(1)))
    check_ack((await _async_search(registry, bank, message)).json())
    status = {
        "transaction_id": "status-1",
        "txnstatus_request": {
            "reference_id": "s1",
            "txn_type": "search",
            "attribute_type": "transaction_id",
            "attribute_value": message["transaction_id"],
        },
    }
    body = bank.envelope(status, action="txn-status", total=1, sender_uri=receiver.uri("/on-status"))
    r = await registry.client.post(f"{ASYNC}/txn/status", json=body, headers=bank.headers())
    assert r.status_code == 200, r.text
    correlation_id = check_ack(r.json())
    try:
        counts = await run_dci_job(registry, utcnow())
    finally:
        receiver.stop()
    assert counts["delivered"] == 2  # the txn-on-status, and the on-search answered in the same run
    by_action = {b["header"]["action"]: (path, b) for path, b in receiver.received}
    path, answer = by_action["txn-on-status"]
    assert path == "/on-status"
    check_callback(registry, answer, "txn-on-status", "TxnStatusResponse")
    assert answer["message"]["correlation_id"] == correlation_id
    # Asked before the search ran: reported as received, not yet answered.
    items = answer["message"]["txnstatus_response"]["txn_status"]["search_response"]
    assert [i["status"] for i in items] == ["rcvd"]
    assert by_action["on-search"][0] == "/other"


async def test_async_endpoints_refuse_in_the_spec_s_terms(dci_registry: Registry) -> None:
    registry = dci_registry
    bank = Partner("bank.example.id", registry.data_dir)
    await register(registry, bank, callback_uris=["http://127.0.0.1:9/cb"])
    stranger = Partner("stranger.example.id", registry.data_dir)
    message = search_message(by_id("KK", kk(1)))
    cases = [
        (bank.headers(), {"header": bank.envelope(message)["header"]}, 400, "err.request.bad"),  # no message
        (bank.headers(), bank.envelope(message, signer=Ed25519PrivateKey.generate()), 401, "err.signature.invalid"),
        (
            bank.headers(),
            {k: v for k, v in bank.envelope(message).items() if k != "signature"},
            401,
            "err.signature.missing",
        ),
        (stranger.headers(), stranger.envelope(message), 403, "err.sender_id.invalid"),
        (
            bank.headers(),
            bank.envelope(message, sender_uri="http://127.0.0.1:9/elsewhere"),
            400,
            "err.sender_uri.invalid",
        ),
        ({}, bank.envelope(message), 401, "err.request.unauthorized"),
    ]
    for headers, body, status, code in cases:
        r = await registry.client.post(f"{ASYNC}/search", json=body, headers=headers)
        assert r.status_code == status, (code, r.text)
        assert spec.problems(spec.validator(spec.HTTP_ERROR_RESPONSE), r.json()) == []
        assert r.json()["errors"][0]["code"] == code
    assert await callback_rows(registry) == []
    # A header-level refusal (total_count) is an ACK and then an on-search with status rjct.
    r = await registry.client.post(f"{ASYNC}/search", json=bank.envelope(message, total=5), headers=bank.headers())
    check_ack(r.json())
    (row,) = await callback_rows(registry)
    assert (row["body"]["header"]["status"], row["body"]["header"]["status_reason_code"]) == (
        "rjct",
        "rjct.total_count.invalid",
    )
