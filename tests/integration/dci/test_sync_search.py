"""DCI sync/search against the real PostgreSQL: partners, signatures, query types, scope, fields, pagination."""

from __future__ import annotations

import json
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from services.registry.dci import spec
from services.registry.dci.models import dci_transaction
from services.registry.families.models import family, personal_data_access
from shared.auth.principal import Role
from tests.integration.dci.conftest import register
from tests.integration.dci.partner import Partner, by_id, predicate, search_message
from tests.integration.registry.conftest import Registry
from tests.integration.registry.helpers import KEL_KURANJI, KEL_SELATAN, family_body, kk, nik
from tests.support.api import auth

URL = "/dci/social/registry/sync/search"
SEARCH_ANSWER = "#/paths/~1registry~1sync~1search/post/responses/default/content/application~1json/schema"


async def _families(registry: Registry) -> list[dict[str, Any]]:
    """Three families: two in Padang Selatan (desil 2 and 6), one in Kuranji (desil 3)."""
    api = registry.as_(Role.VERIFIKATOR)
    made = []
    for serial, kel, desil in ((1, KEL_SELATAN, 2), (2, KEL_SELATAN, 6), (3, KEL_KURANJI, 3)):
        head = nik(serial * 10)
        members = [
            {
                "nik": head,
                "name": f"Kepala {serial}",
                "relationship": "kepala_keluarga",
                "sex": "L",
                "birth_date": "1980-05-15",
            },
            {
                "nik": nik(serial * 10 + 1, day="55", yy="85"),
                "name": f"Istri {serial}",
                "relationship": "istri",
                "sex": "P",
                "birth_date": "1985-05-15",
            },
        ]
        made.append(await api.create(family_body(no_kk=kk(serial), head=head, kelurahan=kel, members=members)))
        async with registry.runtime.sessions() as session, session.begin():
            await session.execute(
                update(family).where(family.c.id == made[-1]["id"]).values(desil=desil, desil_period="2026-Q3")
            )
    return made


async def _search(registry: Registry, partner: Partner, body: dict[str, Any]) -> httpx.Response:
    return await registry.client.post(URL, json=body, headers=partner.headers())


def _valid_answer(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert spec.problems(spec.validator(SEARCH_ANSWER), body) == []
    return body


def _valid_error(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert spec.problems(spec.validator(spec.HTTP_ERROR_RESPONSE), r.json()) == []
    assert r.json()["errors"][0]["code"] == code


async def test_search_by_nik_kk_household_and_predicate(registry: Registry) -> None:
    made = await _families(registry)
    bank = Partner("bank.example.id", registry.data_dir)
    await register(registry, bank)
    message = search_message(
        by_id("NIK", nik(10)),
        by_id("KK", kk(2)),
        by_id("HOUSEHOLD_ID", made[2]["id"]),
        predicate(("wilayah", "eq", "13.71.01"), ("desil", "le", 4)),
    )
    body = _valid_answer(await _search(registry, bank, bank.envelope(message)))
    assert body["header"]["status"] == "succ"
    assert body["header"]["action"] == "on-search"
    assert (body["header"]["total_count"], body["header"]["completed_count"]) == (4, 4)
    answers = body["message"]["search_response"]
    assert [a["reference_id"] for a in answers] == ["ref-1", "ref-2", "ref-3", "ref-4"]
    assert all(a["status"] == "succ" for a in answers)
    person = answers[0]["data"]["reg_records"]
    assert len(person) == 1
    assert person[0]["@type"] == "Person"
    assert person[0]["identifier"] == [{"@type": "Identifier", "identifier_type": "NIK", "identifier_value": nik(10)}]
    assert person[0]["sex"] == "male"
    assert person[0]["birth_date"] == "1980-05-15"
    assert person[0]["address"]["sub_region_code"] == KEL_SELATAN
    assert person[0]["poverty_score"] == {"desil": 2, "period": "2026-Q3"}
    groups = answers[1]["data"]["reg_records"]
    assert groups[0]["@type"] == "Group"
    assert groups[0]["identifier"][0]["identifier_value"] == kk(2)
    assert groups[0]["group_size"] == 2
    assert len(groups[0]["members"]) == 2
    assert answers[2]["data"]["reg_records"][0]["household_identifier"] == made[2]["id"]
    by_predicate = answers[3]
    assert [g["household_identifier"] for g in by_predicate["data"]["reg_records"]] == [made[0]["id"]]
    assert by_predicate["pagination"]["total_count"] == 1

    # Every delivered record is audited with the partner and its record ids; NIKs delivered leave a reveal row.
    audit = registry.runtime.definition.messaging.audit_log
    async with registry.runtime.sessions() as session:
        entries = (await session.execute(select(audit).where(audit.c.action == "dci search"))).mappings().all()
        reveals = (await session.execute(select(personal_data_access))).mappings().all()
        reveal_entries = await session.execute(select(audit.c.seq).where(audit.c.action == "reveal personal data"))
    assert len(entries) == 1
    assert entries[0]["actor"] == "dci:bank.example.id"
    after = entries[0]["after"]
    logged = json.loads(after) if isinstance(after, str) else after
    # The search's entry is also the reveal's: it names the fields that left and every record, so no second one.
    assert "identifier" in logged["fields"]
    assert reveal_entries.all() == []
    recorded = {tuple(r) for r in logged["records"]}
    assert ("family", made[1]["id"]) in recorded
    assert ("family", made[2]["id"]) in recorded
    assert {r["family_id"] for r in reveals} == {m["id"] for m in made[:3]}


async def test_expression_sort_and_pagination_edges(registry: Registry) -> None:
    made = await _families(registry)
    bank = Partner("bank.example.id", registry.data_dir)
    await register(registry, bank)
    expression = {"type": "tepat:filter", "value": {"expression": "desil ge 1 and group_size eq 2"}}
    sort = [{"attribute_name": "desil", "sort_order": "desc"}]

    def page(size: int, number: int) -> dict[str, Any]:
        return {
            "query_type": "expression",
            "query": expression,
            "sort": sort,
            "pagination": {"page_size": size, "page_number": number},
        }

    message = search_message(page(2, 1), page(2, 2), page(2, 3), page(0, 1), page(2, 0))
    answers = _valid_answer(await _search(registry, bank, bank.envelope(message)))["message"]["search_response"]
    ids = [[g["household_identifier"] for g in a["data"]["reg_records"]] for a in answers[:3]]
    assert ids == [[made[1]["id"], made[2]["id"]], [made[0]["id"]], []]
    assert all(a["pagination"]["total_count"] == 3 for a in answers[:3])
    assert [a["status_reason_code"] for a in answers[3:]] == ["rjct.pagination.invalid"] * 2


async def test_partner_limits_query_types_scope_and_fields(registry: Registry) -> None:
    await _families(registry)
    dashboard = Partner("dashboard.sumbarprov.go.id", registry.data_dir)
    await register(
        registry,
        dashboard,
        query_types=["predicate"],
        wilayah=["13.71.01"],
        fields=["location", "poverty_score", "status", "group_size"],
    )
    message = search_message(
        by_id("NIK", nik(10)),
        predicate(("wilayah", "eq", "13.71.09")),
        predicate(("desil", "in", "2,3,6")),
        predicate(("age", "ge", 18)),
    )
    r = await _search(registry, dashboard, dashboard.envelope(message))
    answers = _valid_answer(r)["message"]["search_response"]
    assert [a.get("status_reason_code") for a in answers] == [
        "rjct.search_criteria.invalid",
        "rjct.search_criteria.invalid",
        None,
        "rjct.search_criteria.invalid",
    ]
    assert "outside" in answers[1]["status_reason_message"]
    records = answers[2]["data"]["reg_records"]
    # Only the two Padang Selatan families (scope), with no identifier of any kind.
    assert len(records) == 2
    assert all(set(rec) == {"@type", "address", "poverty_score", "status", "group_size"} for rec in records)
    assert nik(10) not in r.text
    assert kk(1) not in r.text


async def test_refusals_in_the_specs_terms(registry: Registry) -> None:
    await _families(registry)
    bank = Partner("bank.example.id", registry.data_dir)
    await register(registry, bank)
    message = search_message(by_id("NIK", nik(10)))

    no_token = await registry.client.post(URL, json=bank.envelope(message))
    _valid_error(no_token, 401, "err.request.unauthorized")

    unsigned = bank.envelope(message)
    del unsigned["signature"]
    _valid_error(await _search(registry, bank, unsigned), 401, "err.signature.missing")

    forged = bank.envelope(message, signer=Ed25519PrivateKey.generate())
    _valid_error(await _search(registry, bank, forged), 401, "err.signature.invalid")

    tampered = bank.envelope(message)
    tampered["message"]["search_request"][0]["search_criteria"]["query"]["value"] = nik(20)
    _valid_error(await _search(registry, bank, tampered), 401, "err.signature.invalid")

    stranger = Partner("unknown.example.id", registry.data_dir)
    _valid_error(await _search(registry, stranger, stranger.envelope(message)), 403, "err.sender_id.invalid")

    other_token = await registry.client.post(
        URL, json=bank.envelope(message), headers=auth(registry.data_dir, "system", subject="client:someone-else")
    )
    _valid_error(other_token, 403, "err.request.forbidden")

    bad = bank.envelope(message)
    del bad["header"]["message_ts"]
    bad["message"]["search_request"][0]["search_criteria"]["query_type"] = "sql"
    r = await _search(registry, bank, bad)
    _valid_error(r, 400, "err.request.bad")
    assert any("message_ts" in e["message"] for e in r.json()["errors"])

    not_json = await registry.client.post(URL, content=b"{nope", headers=bank.headers())
    _valid_error(not_json, 400, "err.request.bad")

    once = bank.envelope(message)
    assert _valid_answer(await _search(registry, bank, once))["header"]["status"] == "succ"
    again = _valid_answer(await _search(registry, bank, once))
    assert again["header"]["status"] == "rjct"
    assert again["header"]["status_reason_code"] == "rjct.message_id.duplicate"

    miscounted = _valid_answer(await _search(registry, bank, bank.envelope(message, total=3)))
    assert miscounted["header"]["status_reason_code"] == "rjct.total_count.invalid"

    # Of all these, only the one answered search left a transaction and an audit entry: refusals write nothing.
    audit = registry.runtime.definition.messaging.audit_log
    async with registry.runtime.sessions() as session:
        transactions = (await session.execute(select(dci_transaction.c.message_id))).scalars().all()
        audited = (await session.execute(select(audit.c.seq).where(audit.c.action == "dci search"))).all()
    assert transactions == [once["header"]["message_id"]]
    assert len(audited) == 1
