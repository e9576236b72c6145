"""Search criteria of a DCI request, checked and turned into Tepat terms (pure: no I/O).

Query types: `idtype-value` (NIK → Person, KK / HOUSEHOLD_ID → Group), `predicate` (the spec's list of
expression1 [condition expression2] items, all items joined with AND) and `expression` (`{"type": "tepat:filter",
"value": {"expression": "desil le 4 and wilayah eq 13.71.01"}}`, the same attributes joined with `and`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from shared.auth.principal import code_within

RecordType = Literal["Group", "Person"]
ID_TYPES: dict[str, RecordType] = {"NIK": "Person", "KK": "Group", "HOUSEHOLD_ID": "Group"}
EXPRESSION_TYPE = "tepat:filter"
MAX_PAGE_SIZE = 1000
OPERATORS = ("gt", "lt", "eq", "ge", "le", "in")
NUMERIC = ("desil", "group_size", "age")
# attribute → operators it takes; age and sex are member attributes, group_size a family one.
ATTRIBUTES: dict[RecordType, dict[str, tuple[str, ...]]] = {
    "Group": {"wilayah": ("eq", "in"), "status": ("eq", "in"), "desil": OPERATORS, "group_size": OPERATORS},
    "Person": {
        "wilayah": ("eq", "in"),
        "status": ("eq", "in"),
        "desil": OPERATORS,
        "age": OPERATORS,
        "sex": ("eq",),
    },
}
SORTABLE: dict[RecordType, tuple[str, ...]] = {
    "Group": ("desil", "group_size", "wilayah", "last_updated"),
    "Person": ("desil", "age", "birth_date", "wilayah"),
}
STATUSES = ("active", "needs_verification", "inactive")


class CriteriaError(Exception):
    """A search criterion Tepat cannot run: the spec's reason code and a message naming the problem."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Condition:
    """attribute operator value (value: a list for `in`)."""

    attribute: str
    operator: str
    value: Any


@dataclass(frozen=True)
class Clause:
    """One predicate item: first, optionally combined with second by and / or / not (= and not)."""

    first: Condition
    condition: str | None = None
    second: Condition | None = None


@dataclass(frozen=True)
class Search:
    """A checked search: what to find, in which order, which page."""

    record_type: RecordType
    id_type: str | None = None
    id_value: str | None = None
    clauses: tuple[Clause, ...] = ()
    sort: tuple[tuple[str, bool], ...] = ()  # (attribute, descending)
    page_size: int = 100
    page_number: int = 1
    purpose: str | None = None
    consent: dict[str, Any] = field(default_factory=dict)


def _invalid(message: str) -> CriteriaError:
    return CriteriaError("rjct.search_criteria.invalid", message)


def _condition(raw: Any, record_type: RecordType, scope: list[str]) -> Condition:
    if not isinstance(raw, dict):
        raise _invalid("an expression must be an object with attribute_name, operator and attribute_value")
    name, op, value = raw.get("attribute_name"), raw.get("operator"), raw.get("attribute_value")
    if op == "in" and isinstance(value, str):
        # The spec's attribute_value has no array form: `in` takes a comma-separated list ("2,3,6").
        value = [v.strip() for v in value.split(",") if v.strip()]
        if name in NUMERIC and all(v.lstrip("-").isdigit() for v in value):
            value = [int(v) for v in value]
    allowed = ATTRIBUTES[record_type]
    if name not in allowed:
        raise _invalid(f"attribute '{name}' is not searchable for {record_type}; use one of {sorted(allowed)}")
    if op not in allowed[name]:
        raise _invalid(f"operator '{op}' does not apply to '{name}'; use one of {list(allowed[name])}")
    values: list[Any] = value if op == "in" and isinstance(value, list) else [value]
    if op == "in" and (not isinstance(value, list) or not value):
        raise _invalid(f"'in' on '{name}' needs a comma-separated list of values")
    if op != "in" and isinstance(value, list | dict):
        raise _invalid(f"'{op}' on '{name}' needs a single value")
    if name in NUMERIC:
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise _invalid(f"'{name}' values must be whole numbers")
    elif not all(isinstance(v, str) for v in values):
        raise _invalid(f"'{name}' values must be strings")
    if name == "status" and not set(values) <= set(STATUSES):
        raise _invalid(f"status must be one of {list(STATUSES)}")
    if name == "sex" and value not in ("male", "female"):
        raise _invalid("sex must be 'male' or 'female'")
    if name == "wilayah":
        outside = [v for v in values if not any(code_within(v, s) for s in scope)]
        if outside:
            raise _invalid(f"wilayah {outside} is outside the wilayah this partner may search")
    return Condition(name, op, value)


def _clauses_from_predicate(query: Any, record_type: RecordType, scope: list[str]) -> tuple[Clause, ...]:
    if not isinstance(query, list) or not query:
        raise _invalid("a predicate query is a non-empty list of expressions")
    items = sorted(query, key=lambda item: item.get("seq_num", 0) if isinstance(item, dict) else 0)
    clauses = []
    for item in items:
        first = _condition(item.get("expression1"), record_type, scope)
        condition = item.get("condition")
        second = item.get("expression2")
        if (condition is None) != (second is None):
            raise _invalid("condition and expression2 go together")
        clauses.append(Clause(first, condition, _condition(second, record_type, scope) if second is not None else None))
    return tuple(clauses)


def _clauses_from_expression(query: Any, record_type: RecordType, scope: list[str]) -> tuple[Clause, ...]:
    if not isinstance(query, dict) or query.get("type") != EXPRESSION_TYPE:
        raise _invalid(f"an expression query has type '{EXPRESSION_TYPE}'")
    text = (query.get("value") or {}).get("expression")
    if not isinstance(text, str) or not text.strip():
        raise _invalid("an expression query needs value.expression, e.g. 'desil le 4 and wilayah eq 13.71.01'")
    clauses = []
    for part in text.split(" and "):
        words = part.split()
        if len(words) != 3:
            raise _invalid(f"cannot read '{part.strip()}': write <attribute> <operator> <value>")
        name, op, raw = words
        value: Any = raw
        if name in NUMERIC and op != "in":
            try:
                value = int(raw)
            except ValueError as exc:
                raise _invalid(f"'{name}' values must be whole numbers") from exc
        cond = {"attribute_name": name, "operator": op, "attribute_value": value}
        clauses.append(Clause(_condition(cond, record_type, scope)))
    return tuple(clauses)


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise CriteriaError("rjct.pagination.invalid", f"{name} must be a whole number")
    return int(value)


def parse_criteria(criteria: dict[str, Any], *, query_types: list[str], scope: list[str]) -> Search:
    """Check one search_criteria against what Tepat and this partner allow."""
    query_type = criteria["query_type"]
    if query_type not in query_types:
        raise _invalid(f"query type '{query_type}' is not allowed for this partner")
    query = criteria["query"]
    record_type: RecordType
    id_type = id_value = None
    clauses: tuple[Clause, ...] = ()
    if query_type == "idtype-value":
        if not isinstance(query, dict) or query.get("type") not in ID_TYPES:
            raise _invalid(f"idtype-value queries take type {sorted(ID_TYPES)}")
        id_type = str(query["type"])
        if not isinstance(query.get("value"), str) or not query["value"].strip():
            raise _invalid(f"a {id_type} value is a non-empty string")
        id_value = query["value"].strip()
        record_type = ID_TYPES[id_type]
    else:
        wanted = criteria.get("reg_record_type", "Group")
        if wanted not in ATTRIBUTES:
            raise _invalid("reg_record_type is 'Group' (families) or 'Person' (members)")
        record_type = wanted
        parse = _clauses_from_predicate if query_type == "predicate" else _clauses_from_expression
        clauses = parse(query, record_type, scope)
    sort = []
    for item in criteria.get("sort") or []:
        name = item.get("attribute_name")
        if name not in SORTABLE[record_type]:
            raise CriteriaError(
                "rjct.sort.invalid", f"cannot sort {record_type} by '{name}'; use {list(SORTABLE[record_type])}"
            )
        sort.append((str(name), item.get("sort_order") == "desc"))
    page = criteria.get("pagination") or {"page_size": 100}
    page_size = _whole(page["page_size"], "page_size")
    page_number = _whole(page.get("page_number", 1), "page_number")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise CriteriaError("rjct.pagination.invalid", f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    if page_number < 1:
        raise CriteriaError("rjct.pagination.invalid", "page_number starts at 1")
    consent = criteria.get("consent") or {}
    purpose = (consent.get("purpose") or {}) if isinstance(consent, dict) else {}
    purpose_text = purpose.get("text") or purpose.get("code") if isinstance(purpose, dict) else None
    return Search(
        record_type=record_type,
        id_type=id_type,
        id_value=id_value,
        clauses=clauses,
        sort=tuple(sort),
        page_size=page_size,
        page_number=page_number,
        purpose=str(purpose_text) if purpose_text else None,
        consent=consent if isinstance(consent, dict) else {},
    )
