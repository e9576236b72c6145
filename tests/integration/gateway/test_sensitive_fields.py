"""Findings 3 and 8: personal data follows one policy in every service (shared/privacy/policy.py).

The first test walks every service's response schemas: a field the policy names must be nullable, so it can be
withheld. The second seeds families whose heads are pregnant and severely disabled, then calls every read route
whose path the seed can fill as every role, and checks that no sensitive value reaches a role without
READ_SENSITIVE, while a role with it does see them in the registry and in disbursement (so the walk is not empty).
The same walk checks that the seeded names and street address reach no role without READ_PERSONAL_DATA, unless an
auditor reveals them with a purpose.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from services.disbursement.app import create_app as create_disbursement
from services.disbursement.settings import DisbursementSettings
from services.gateway.app import create_app
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from services.verification.app import create_app as create_verification
from services.verification.settings import VerificationSettings
from shared.auth.permissions import Permission, permissions_of
from shared.auth.principal import Role
from shared.privacy.policy import SENSITIVE_FIELDS
from tests.integration.gateway.test_authorization_matrix import (
    KEL_OUT,
    KOTA,
    _objects,
    _seed,
    _settings,
    _strings,
    fill_path,
    route_specs,
)
from tests.support.api import auth, running


def _nullable(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "null" or schema.get("nullable"):
        return True
    return any(_nullable(s) for s in schema.get("anyOf", []) + schema.get("oneOf", []))


def test_every_response_schema_field_the_policy_names_can_be_withheld(tmp_path: Path) -> None:
    apps = {
        "registry": create_registry(RegistrySettings(data_dir=tmp_path)),
        "verification": create_verification(VerificationSettings(data_dir=tmp_path)),
        "disbursement": create_disbursement(DisbursementSettings(data_dir=tmp_path)),
    }
    carriers: list[str] = []
    problems: list[str] = []
    for service, app in apps.items():
        for name, schema in app.openapi().get("components", {}).get("schemas", {}).items():
            for field, prop in schema.get("properties", {}).items():
                if field in SENSITIVE_FIELDS:
                    carriers.append(f"{service}.{name}.{field}")
                    if not _nullable(prop):
                        problems.append(f"{service}.{name}.{field} cannot be null: it cannot be withheld")
    assert not problems, "\n".join(problems)
    # Members in the registry, frozen inputs in disbursement: the walk found the fields where they are.
    assert any(c.startswith("registry.MemberOut.") for c in carriers), carriers
    assert any(c.startswith("disbursement.FrozenInputs.") for c in carriers), carriers


def _sensitive_values(body: Any) -> Iterator[tuple[str, Any]]:
    for obj in _objects(body):
        for key, value in obj.items():
            if key in SENSITIVE_FIELDS and value is not None:
                yield key, value


# What `_seed` writes: every head's name and one street address.
SEEDED_PERSONAL = ("Budi Santoso", "Siti Aminah", "Rahmat Hidayat", "Dewi Lestari", "Andi Saputra", "Nipah")


def _personal_values(body: Any) -> Iterator[str]:
    for text in _strings(body):
        yield from (seeded for seeded in SEEDED_PERSONAL if seeded in text)


async def test_no_role_without_the_permission_sees_a_sensitive_or_personal_value_in_any_service(tmp_path: Path) -> None:
    specs = route_specs(tmp_path / "introspect")
    app = create_app(_settings(tmp_path))
    async with running(app) as client:
        given = await _seed(client, tmp_path, sensitive=True)
        boss = auth(tmp_path, Role.VERIFIKATOR, KOTA, subject="privacy-verifikator")
        page = await client.get("/api/registry/families", params={"kelurahan": KEL_OUT}, headers=boss)
        family_id = page.json()["items"][0]["id"]
        family = (await client.get(f"/api/registry/families/{family_id}", headers=boss)).json()
        given |= {"family_id": family_id, "household_id": family_id, "member_id": family["members"][0]["id"]}
        reads = [
            s
            for s in specs
            if s.method == "GET" and s.permissions and all(p.name in given for p in s.dependant.path_params)
        ]
        rng = random.Random(3)
        leaks: list[str] = []
        seen: dict[Role, set[str]] = {}
        seen_personal: dict[Role, set[str]] = {}
        for role in Role:
            headers = auth(tmp_path, role, KOTA, subject=f"privacy-{role.value}")
            sensitive = Permission.READ_SENSITIVE in permissions_of(role)
            personal = Permission.READ_PERSONAL_DATA in permissions_of(role)
            for spec in reads:
                if not spec.permissions <= permissions_of(role):
                    continue
                r = await client.get(fill_path(spec, rng, given), headers=headers)
                assert r.status_code < 500, f"{spec.label} as {role}: {r.status_code} {r.text[:200]}"
                if r.status_code != 200 or not r.headers["content-type"].startswith("application/json"):
                    continue
                for key, value in _sensitive_values(r.json()):
                    seen.setdefault(role, set()).add(spec.label)
                    if not sensitive:
                        leaks.append(f"{spec.label} as {role}: {key}={value!r}")
                for value in _personal_values(r.json()):
                    seen_personal.setdefault(role, set()).add(spec.label)
                    if not personal:
                        leaks.append(f"{spec.label} as {role}: {value!r}")
        assert not leaks, f"{len(leaks)} leaks:\n" + "\n".join(sorted(set(leaks)))
        # The seed's sensitive facts reach the routes that carry them, for a role that may read them.
        shown = seen.get(Role.VERIFIKATOR, set())
        for route in (
            "GET /api/registry/families/{family_id}",
            "GET /api/disbursement/programmes/{code}/explain/{household_id}",
            "GET /api/disbursement/tahap/{tahap_id}/list",
        ):
            assert route in shown, sorted(shown)
        personal_routes = seen_personal.get(Role.VERIFIKATOR, set())
        assert "GET /api/registry/families/{family_id}" in personal_routes, sorted(personal_routes)
        assert "GET /api/registry/families/{family_id}/history" in personal_routes, sorted(personal_routes)

        # An auditor sees initials, and the names and address only by revealing with a purpose (audited).
        auditor = auth(tmp_path, Role.AUDITOR, KOTA, subject="privacy-auditor")
        masked = (await client.get(f"/api/registry/families/{family_id}", headers=auditor)).json()
        assert masked["address"] is None
        assert masked["rt"]
        assert masked["members"][0]["age"] is None
        assert masked["members"][0]["name"] in {"B. S.", "S. A.", "R. H.", "D. L.", "A. S."}
        revealed = await client.get(
            f"/api/registry/families/{family_id}",
            params={"reveal": "true", "purpose": "audit sampling"},
            headers=auditor,
        )
        assert revealed.status_code == 200, revealed.text
        assert "Nipah" in revealed.json()["address"]
        assert revealed.json()["members"][0]["name"] in SEEDED_PERSONAL
        assert revealed.json()["members"][0]["pregnant"] is None  # revealing never lifts READ_SENSITIVE
