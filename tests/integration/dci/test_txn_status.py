"""DCI sync/txn/status: what became of a partner's earlier searches, per reference id, and only its own."""

from __future__ import annotations

from typing import Any

from services.registry.dci import spec
from tests.integration.dci.conftest import register
from tests.integration.dci.partner import Partner, by_id, predicate, search_message
from tests.integration.registry.conftest import Registry

SEARCH = "/dci/social/registry/sync/search"
STATUS = "/dci/social/registry/sync/txn/status"
STATUS_ANSWER = "#/paths/~1registry~1sync~1txn~1status/post/responses/default/content/application~1json/schema"


def _status_message(transaction_id: str, attribute_type: str, value: Any) -> dict[str, Any]:
    return {
        "transaction_id": transaction_id,
        "txnstatus_request": {
            "reference_id": "status-1",
            "txn_type": "search",
            "attribute_type": attribute_type,
            "attribute_value": value,
        },
    }


async def _status(registry: Registry, partner: Partner, message: dict[str, Any]) -> dict[str, Any]:
    body = partner.envelope(message, action="txn-status", total=1)
    r = await registry.client.post(STATUS, json=body, headers=partner.headers())
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    assert spec.problems(spec.validator(STATUS_ANSWER), answer) == []
    return answer


async def test_status_by_transaction_correlation_and_reference_ids(registry: Registry) -> None:
    bank = Partner("bank.example.id", registry.data_dir)
    other = Partner("pos.example.id", registry.data_dir)
    await register(registry, bank, query_types=["idtype-value"])
    await register(registry, other)
    message = search_message(by_id("NIK", "1371011505800001"), predicate(("desil", "le", 4)))
    r = await registry.client.post(SEARCH, json=bank.envelope(message), headers=bank.headers())
    correlation_id = r.json()["message"]["correlation_id"]
    txn = message["transaction_id"]

    by_txn = await _status(registry, bank, _status_message(txn, "transaction_id", txn))
    assert by_txn["header"]["status"] == "succ"
    status = by_txn["message"]["txnstatus_response"]["txn_status"]
    assert status["correlation_id"] == correlation_id
    assert [(s["reference_id"], s["status"], s.get("status_reason_code")) for s in status["search_response"]] == [
        ("ref-1", "succ", None),
        ("ref-2", "rjct", "rjct.search_criteria.invalid"),  # predicate is not allowed for this partner
    ]
    by_correlation = await _status(registry, bank, _status_message("t2", "correlation_id", correlation_id))
    assert len(by_correlation["message"]["txnstatus_response"]["txn_status"]["search_response"]) == 2
    by_reference = await _status(registry, bank, _status_message(txn, "reference_id_list", ["ref-2"]))
    only = by_reference["message"]["txnstatus_response"]["txn_status"]["search_response"]
    assert [s["reference_id"] for s in only] == ["ref-2"]

    # Another partner cannot learn about this transaction; a mistyped value is a clear refusal.
    foreign = await _status(registry, other, _status_message(txn, "transaction_id", txn))
    assert foreign["header"]["status"] == "rjct"
    assert "message" not in foreign
    mismatched = await _status(registry, bank, _status_message(txn, "transaction_id", ["x"]))
    assert mismatched["header"]["status"] == "rjct"
    assert "attribute_value" in mismatched["header"]["status_reason_message"]


async def test_txn_status_envelope_is_checked(registry: Registry) -> None:
    bank = Partner("bank.example.id", registry.data_dir)
    await register(registry, bank)
    body = bank.envelope(_status_message("t", "transaction_id", "t"), action="search", total=1)
    r = await registry.client.post(STATUS, json=body, headers=bank.headers())
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "err.request.bad"
