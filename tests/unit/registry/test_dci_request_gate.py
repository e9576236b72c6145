"""The compiled gate in front of the reference JSON Schema validator never lets through what the reference refuses."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fastjsonschema
import pytest

from services.registry.dci import spec
from tests.integration.dci.partner import Partner, by_id, predicate, search_message

NOW = "2026-12-05T10:00:00+07:00"
REPLACEMENTS: list[Any] = [None, 7, -1, 2.5, True, "", "x", "2026-13-45", [], [{}], {}, {"a": 1}]


def _bodies(partner: Partner) -> dict[tuple[str, str], list[dict[str, Any]]]:
    searches = [
        search_message(by_id("NIK", "1371011505800001")),
        search_message(
            by_id("KK", "1371010101150001", sort=[{"attribute_name": "desil", "sort_order": "asc"}]),
            predicate(("desil", "le", 4), ("wilayah", "eq", "13.71.01")),
        ),
        search_message({"query_type": "expression", "query": {"type": "tepat:filter", "value": {"e": "desil le 4"}}}),
    ]
    status = {
        "transaction_id": "t-1",
        "txnstatus_request": {
            "reference_id": "r-1",
            "txn_type": "search",
            "attribute_type": "reference_id_list",
            "attribute_value": ["ref-1", "ref-2"],
        },
    }
    subscribe = {
        "transaction_id": "t-2",
        "subscribe_request": [
            {
                "reference_id": "sub-1",
                "timestamp": NOW,
                "subscribe_criteria": {
                    "reg_event_type": "REGISTER",
                    "filter_type": "predicate",
                    "filter": [
                        {
                            "seq_num": 1,
                            "expression1": {"attribute_name": "wilayah", "operator": "eq", "attribute_value": "13.71"},
                        }
                    ],
                    "notify_record_type": "Group",
                },
            }
        ],
    }
    unsubscribe = {"transaction_id": "t-3", "timestamp": NOW, "subscription_codes": ["s-1"]}
    return {
        ("search", "SearchRequest"): [partner.envelope(m, sender_uri="https://bank.example.id/cb") for m in searches],
        ("txn-status", "TxnStatusRequest"): [partner.envelope(status, action="txn-status", total=1)],
        ("subscribe", "SubscribeRequest"): [partner.envelope(subscribe, action="subscribe", total=1)],
        ("unsubscribe", "UnSubscribeRequest"): [partner.envelope(unsubscribe, action="unsubscribe", total=1)],
    }


def _mutations(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(path, replacement) for every node: each other kind of value, and (inside an object) its absence."""
    for value in REPLACEMENTS:
        if value != node:
            yield path, value
    if isinstance(node, dict):
        for key, child in node.items():
            yield (*path, key), _ABSENT
            yield from _mutations(child, (*path, key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _mutations(child, (*path, i))


_ABSENT = object()


def _mutated(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    out = copy.deepcopy(body)
    parent: Any = out
    for step in path[:-1]:
        parent = parent[step]
    if value is _ABSENT:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


def _gate_passes(action: str, schema: str, body: Any) -> bool:
    try:
        spec._envelope_gate(action, schema)(body)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


@pytest.mark.parametrize(
    "kind",
    [
        ("search", "SearchRequest"),
        ("txn-status", "TxnStatusRequest"),
        ("subscribe", "SubscribeRequest"),
        ("unsubscribe", "UnSubscribeRequest"),
    ],
)
def test_gate_passes_valid_bodies_and_refuses_whatever_the_reference_refuses(
    tmp_path: Path, kind: tuple[str, str]
) -> None:
    action, schema = kind
    reference = spec.envelope_validator(action, schema)
    refused_by_both = 0
    for body in _bodies(Partner("gate.example.id", tmp_path))[kind]:
        # Valid bodies take the fast path (else the gate would only add work), and leave it unchanged (the
        # signature is checked over them afterwards).
        untouched = copy.deepcopy(body)
        assert _gate_passes(action, schema, body)
        assert body == untouched
        assert spec.request_problems(action, schema, body) == []
        for path, value in _mutations(body):
            candidate = _mutated(body, path, value)
            reference_problems = spec.problems(reference, candidate)
            if _gate_passes(action, schema, candidate):
                assert reference_problems == [], (path, value, reference_problems)
            else:
                refused_by_both += bool(reference_problems)
            # Whatever the gate says, the answer is the reference's verdict.
            assert spec.request_problems(action, schema, candidate) == reference_problems
    assert refused_by_both > 20


def test_gate_refuses_a_message_ts_without_a_zone(tmp_path: Path) -> None:
    body = Partner("gate.example.id", tmp_path).envelope(search_message(by_id("NIK", "1371011505800001")))
    body["header"]["message_ts"] = "2026-12-05T10:00:00"
    assert not _gate_passes("search", "SearchRequest", body)
    assert [p["field"] for p in spec.request_problems("search", "SearchRequest", body)] == ["header/message_ts"]
