"""The DCI spec copy, its errata, the message signature and the search criteria rules."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.registry.dci import spec
from services.registry.dci.query import CriteriaError, parse_criteria
from services.registry.dci.signature import SignatureError, sign, verify

CONTRACT = Path(__file__).parents[2] / "contracts" / "dci" / "social_api_v1.0.0.yaml"
ALL = ["idtype-value", "predicate", "expression"]


def test_product_validates_with_the_contract_copy() -> None:
    assert spec.SPEC_FILE.read_bytes() == CONTRACT.read_bytes()


def _item(criteria: dict[str, Any]) -> dict[str, Any]:
    return {
        "transaction_id": "t1",
        "search_request": [
            {"reference_id": "r1", "timestamp": "2026-12-05T10:00:00+07:00", "search_criteria": criteria}
        ],
    }


def test_errata_let_whole_numbers_and_expressions_through_and_keep_real_errors() -> None:
    v = spec.validator("SearchRequest")
    numeric = [{"expression1": {"attribute_name": "desil", "operator": "le", "attribute_value": 4}}]
    assert spec.problems(v, _item({"query_type": "predicate", "query": numeric})) == []
    expression = {"type": "tepat:filter", "value": {"expression": "desil le 4"}}
    assert spec.problems(v, _item({"query_type": "expression", "query": expression})) == []
    wrong = spec.problems(v, _item({"query_type": "sql", "query": {"type": "NIK", "value": "1"}}))
    assert wrong[0]["field"] == "search_request/0/search_criteria/query_type"
    unsubscribe = {"transaction_id": "t", "timestamp": "2026-12-05T10:00:00Z", "subscription_codes": ["s1"]}
    assert spec.problems(spec.validator("UnSubscribeRequest"), unsubscribe) == []
    assert spec.problems(v, {**_item({"query_type": "predicate", "query": numeric}), "transaction_id": 5})
    status = {"reference_id": "r", "txn_type": "search", "attribute_type": "transaction_id", "attribute_value": "t"}
    assert spec.problems(spec.validator("TxnStatusRequest"), {"transaction_id": "t", "txnstatus_request": status}) == []


def test_message_ts_needs_a_zone() -> None:
    v = spec.validator("MsgHeader_V1.0.0")
    header = {"message_id": "1", "action": "search", "sender_id": "s", "total_count": 1}
    assert spec.problems(v, {**header, "message_ts": "2026-12-05T10:00:00+07:00"}) == []
    assert spec.problems(v, {**header, "message_ts": "2026-12-05T10:00:00"})[0]["field"] == "message_ts"


def _pem(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def test_signature_round_trip_and_refusals() -> None:
    key = Ed25519PrivateKey.generate()
    header, message = {"message_id": "1", "sender_id": "bank"}, {"transaction_id": "t", "x": [1, "ä"]}
    now = int(time.time())
    value = sign(key, sender_id="bank", key_id="k1", header=header, message=message, now=now)
    assert value.startswith('Signature: namespace="dci", kidId="bank|k1|ed25519"')
    verify(
        value,
        public_key_pem=_pem(key),
        sender_id="bank",
        header=header,
        message=dict(reversed(message.items())),
        now=now,
    )

    def refused(code: str, **kw: Any) -> None:
        args: dict[str, Any] = {
            "public_key_pem": _pem(key),
            "sender_id": "bank",
            "header": header,
            "message": message,
            "now": now,
        }
        args.update(kw)
        with pytest.raises(SignatureError) as caught:
            verify(args.pop("value", value), **args)
        assert caught.value.code == code

    refused("err.signature.missing", value=None)
    refused("err.signature.invalid", value="Signature: nonsense")
    refused("err.signature.invalid", message={"transaction_id": "u"})
    refused("err.signature.invalid", public_key_pem=_pem(Ed25519PrivateKey.generate()))
    refused("err.signature.invalid", sender_id="other")
    refused("err.signature.invalid", now=now + 3600)


def _criteria(**kw: Any) -> dict[str, Any]:
    return {"query_type": "predicate", **kw}


def _pred(name: str, op: str, value: Any) -> list[dict[str, Any]]:
    return [{"expression1": {"attribute_name": name, "operator": op, "attribute_value": value}}]


@pytest.mark.parametrize(
    ("criteria", "code"),
    [
        (_criteria(query=_pred("wilayah", "eq", "13.71.09")), "rjct.search_criteria.invalid"),
        (_criteria(query=_pred("nama", "eq", "x")), "rjct.search_criteria.invalid"),
        (_criteria(query=_pred("desil", "eq", "x")), "rjct.search_criteria.invalid"),
        (_criteria(query=_pred("age", "ge", 60)), "rjct.search_criteria.invalid"),  # Group has no age
        (_criteria(query=_pred("desil", "in", "")), "rjct.search_criteria.invalid"),
        (_criteria(query=_pred("desil", "le", 4), sort=[{"attribute_name": "nik"}]), "rjct.sort.invalid"),
        (_criteria(query=_pred("desil", "le", 4), pagination={"page_size": 1001}), "rjct.pagination.invalid"),
        (_criteria(query=_pred("desil", "le", 4), pagination={"page_size": 2.5}), "rjct.pagination.invalid"),
        (
            {"query_type": "expression", "query": {"type": "tepat:filter", "value": {"expression": "desil <= 4"}}},
            "rjct.search_criteria.invalid",
        ),
        ({"query_type": "idtype-value", "query": {"type": "UIN", "value": "1"}}, "rjct.search_criteria.invalid"),
    ],
)
def test_criteria_refused_with_the_specs_reason(criteria: dict[str, Any], code: str) -> None:
    with pytest.raises(CriteriaError) as caught:
        parse_criteria(criteria, query_types=ALL, scope=["13.71.01"])
    assert caught.value.code == code


def test_criteria_read_in_tepat_terms() -> None:
    person = parse_criteria(
        _criteria(
            query=_pred("age", "ge", 60) + _pred("wilayah", "in", "13.71.01.1001,13.71.01.1002"),
            reg_record_type="Person",
            sort=[{"attribute_name": "age", "sort_order": "desc"}],
            pagination={"page_size": 10, "page_number": 3},
            consent={"purpose": {"text": "PKH verification"}},
        ),
        query_types=ALL,
        scope=["13.71.01"],
    )
    assert person.record_type == "Person"
    assert person.page_size == 10
    assert person.page_number == 3
    assert [c.first.value for c in person.clauses] == [60, ["13.71.01.1001", "13.71.01.1002"]]
    assert person.sort == (("age", True),)
    assert person.purpose == "PKH verification"
    kk = parse_criteria(
        {"query_type": "idtype-value", "query": {"type": "KK", "value": "1371"}}, query_types=ALL, scope=["13.71"]
    )
    assert (kk.record_type, kk.id_type, kk.page_number) == ("Group", "KK", 1)
    with pytest.raises(CriteriaError, match="not allowed for this partner"):
        parse_criteria(_criteria(query=_pred("desil", "le", 4)), query_types=["idtype-value"], scope=["13.71"])
