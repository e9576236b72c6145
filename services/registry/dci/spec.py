"""The DCI Social Registry API v1.0.0 schemas (a verbatim excerpt of the published file) and their validators."""

from __future__ import annotations

import copy
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import yaml
from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import best_match

SPEC_FILE = Path(__file__).parent / "spec" / "social_api_v1.0.0.yaml"

_THROUGH_REF = (
    "#/paths/~1registry~1search/post/requestBody/content/application~1json/schema/properties/message/oneOf/0/"
)
# Known errata of the published file, patched after loading so the copy stays verbatim:
# 1. two $refs point *through* another $ref (…/message/oneOf/0/properties/…), which JSON Pointer cannot follow;
#    they are pointed at the SearchRequest schema the first $ref names.
# 2. UnSubscribeRequest requires `timestamp` and `sunscription_codes` but defines `timesstamp` and
#    `subscription_codes`: the required names are the intended ones (`timestamp`, `subscription_codes`).
# 3. an identifier / attribute value is `oneOf` string, integer, number, boolean, object: every integer is also a
#    number, so no whole number could ever be valid; read as `anyOf`.
# 4. a query is `oneOf` {type, value: object} (expression) and {type, value: any} (idtype-value): every expression
#    query matches both, so none could be valid; read as `anyOf`.
# 5. TxnStatusRequest's attribute_value is `oneOf` transaction_id (string), list, correlation_id (string): every
#    string matches twice; read as `anyOf`.
ERRATA = (
    "refs through a $ref",
    "UnSubscribeRequest required names",
    "attribute value oneOf integer/number",
    "query oneOf expression/idtype-value",
    "txn status attribute_value oneOf string/string",
)

COMPONENT = "#/components/schemas/"
REQUEST_HEADER = COMPONENT + "MsgHeader_V1.0.0"
CALLBACK_HEADER = COMPONENT + "MsgCallbackHeader_V1.0.0"
ACK_RESPONSE = "#/components/responses/Response/content/application~1json/schema"
HTTP_ERROR_RESPONSE = "#/components/responses/HttpErrorResponse/content/application~1json/schema"


def _patched_ref(ref: str) -> str:
    if ref.startswith(_THROUGH_REF):
        ref = COMPONENT + "SearchRequest/" + ref[len(_THROUGH_REF) :]
    return ref.replace("/properties/query/oneOf/", "/properties/query/anyOf/")


def _patch_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _patched_ref(v) if k == "$ref" and isinstance(v, str) else _patch_refs(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_patch_refs(v) for v in node]
    return node


@cache
def document() -> dict[str, Any]:
    """The spec excerpt with the errata patched."""
    doc: dict[str, Any] = _patch_refs(yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8")))
    unsubscribe = doc["components"]["schemas"]["UnSubscribeRequest"]
    unsubscribe["required"] = ["transaction_id", "timestamp", "subscription_codes"]
    unsubscribe["properties"]["timestamp"] = {"$ref": REQUEST_HEADER + "/properties/message_ts"}
    criteria = doc["components"]["schemas"]["SearchRequest"]["properties"]["search_request"]["items"]
    query = criteria["properties"]["search_criteria"]["properties"]["query"]
    value = query["oneOf"][1]["properties"]["value"]
    value["allOf"][1]["anyOf"] = value["allOf"][1].pop("oneOf")
    query["anyOf"] = query.pop("oneOf")
    status = doc["components"]["schemas"]["TxnStatusRequest"]["properties"]["txnstatus_request"]["properties"]
    status["attribute_value"]["anyOf"] = status["attribute_value"].pop("oneOf")
    return doc


_formats = FormatChecker(formats=())


@_formats.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    # ISO 8601 with a zone, as the spec's message_ts demands.
    if not isinstance(value, str):
        return True
    return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def _zoned(value: str) -> bool:
    try:
        return _date_time(value)
    except ValueError:
        return False


def _any(value: str) -> bool:
    return True


# The reference validator checks date-time only; the gate must not be stricter about the other formats, or every
# body using them would be validated twice.
_GATE_FORMATS = {"date-time": _zoned} | dict.fromkeys(("email", "hostname", "ipv4", "ipv6", "regex", "uri"), _any)


def envelope_schema(action: str, message_schema: str, *, callback: bool = False) -> dict[str, Any]:
    """The request body of a DCI endpoint: signature, header (with this action) and a message of this schema."""
    return {
        "type": "object",
        "properties": {
            "signature": {"$ref": COMPONENT + "MsgSignature"},
            "header": {
                "allOf": [
                    {"$ref": CALLBACK_HEADER if callback else REQUEST_HEADER},
                    {"properties": {"action": {"enum": [action]}}},
                ]
            },
            "message": {
                "type": "object",
                "oneOf": [{"$ref": COMPONENT + message_schema}, {"$ref": COMPONENT + "EncryptedMessage"}],
            },
        },
        "required": ["header", "message"] if not callback else ["header"],
    }


@cache
def validator(ref_or_name: str) -> Draft4Validator:
    """A validator of one schema of the document: a `#/…` pointer or a component schema name."""
    ref = ref_or_name if ref_or_name.startswith("#") else COMPONENT + ref_or_name
    root = copy.deepcopy(document())
    # OpenAPI 3.0 schemas are a JSON Schema draft 4 dialect; a sibling of $ref is ignored there, so the
    # document itself can be the root that every #/… pointer resolves against.
    root["$ref"] = ref
    return Draft4Validator(root, format_checker=_formats)


def _envelope_root(action: str, message_schema: str, *, callback: bool = False) -> dict[str, Any]:
    root = copy.deepcopy(document())
    root.update(envelope_schema(action, message_schema, callback=callback))
    return root


@cache
def envelope_validator(action: str, message_schema: str, *, callback: bool = False) -> Draft4Validator:
    """A validator of a whole request (or callback) body of `action`."""
    return Draft4Validator(_envelope_root(action, message_schema, callback=callback), format_checker=_formats)


@cache
def _envelope_gate(action: str, message_schema: str) -> Any:
    # use_default=False: by default the compiled code writes the schema's defaults into the body, which would
    # change the signed message before its signature is checked.
    return fastjsonschema.compile(_envelope_root(action, message_schema), formats=_GATE_FORMATS, use_default=False)


def request_problems(action: str, message_schema: str, body: Any) -> list[dict[str, str]]:
    """The schema violations of a request body of `action` (empty when valid).

    A compiled validator (fastjsonschema, about 10x faster) passes the valid bodies every request brings; only a
    body it refuses goes to the reference validator, whose verdict and error list are the answer. The gate must
    therefore never pass a body the reference refuses: tests/unit/registry/test_dci_request_gate.py holds it to
    that over every mutation of valid bodies of each action."""
    try:
        _envelope_gate(action, message_schema)(body)
    except fastjsonschema.JsonSchemaException:
        return problems(envelope_validator(action, message_schema), body)
    return []


def problems(validator_: Draft4Validator, body: Any, limit: int = 10) -> list[dict[str, str]]:
    """The first schema violations of `body`, as field path and reason (empty when valid)."""
    found = sorted(validator_.iter_errors(body), key=lambda e: list(e.absolute_path))[:limit]
    # A failed oneOf / anyOf names the whole object: report the sub-error that explains it best instead.
    leaves = [best_match([e]) or e for e in found]
    return [{"field": "/".join(str(p) for p in e.absolute_path) or "(body)", "reason": e.message[:300]} for e in leaves]
