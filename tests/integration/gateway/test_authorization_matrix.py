"""The authorisation matrix, generated from the route tables: every route x every role, through the gateway.

Each route's required permissions are read from its dependency tree (`require()` tags its dependency), so a new
route is covered the day it is added: if it requires nothing it must be on the explicit allow-lists below, and the
table in `shared/auth/permissions.py` decides who gets 403. The second test seeds two kecamatan through the public
APIs and checks that a TKSK of one sees nothing of the other in any list, count, aggregate or detail read.
"""

from __future__ import annotations

import csv
import enum
import io
import random
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, get_args, get_origin

import httpx
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from services.disbursement.app import create_app as create_disbursement
from services.disbursement.settings import DisbursementSettings
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from services.registry.app import create_app as create_registry
from services.registry.imports.extract import COLUMNS
from services.registry.settings import RegistrySettings
from services.verification.app import create_app as create_verification
from services.verification.proposals.rules import ACTION_PERMISSION
from services.verification.settings import VerificationSettings
from shared.auth.permissions import Permission, permissions_of
from shared.auth.principal import Role, code_within
from shared.http.security import current_principal
from tests.support.api import auth, running
from tests.support.waiting import wait_for

# Routes reachable without a token (the gateway lets these through for GET/HEAD).
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz")}
# Routes any authenticated caller may use: wilayah reference data (names and codes, no personal data).
AUTHENTICATED_ONLY = {
    ("registry", "GET", "/wilayah/kecamatan"),
    ("registry", "GET", "/wilayah/kecamatan/{code}/kelurahan"),
    ("registry", "GET", "/wilayah/search"),
    ("registry", "GET", "/wilayah/{code}"),
    # DCI Social Registry API: the route checks the token itself (to answer in the spec's shapes), then that the
    # token belongs to a registered partner whose key signed the message (services/registry/dci/service.py).
    ("registry", "POST", "/dci/social/registry/sync/search"),
    ("registry", "POST", "/dci/social/registry/sync/txn/status"),
    ("registry", "POST", "/dci/social/registry/search"),
    ("registry", "POST", "/dci/social/registry/txn/status"),
    ("registry", "POST", "/dci/social/registry/subscribe"),
    ("registry", "POST", "/dci/social/registry/unsubscribe"),
    # Export jobs: only the caller who asked finds the job (404 for anyone else), and only while their role still
    # holds the permission of the exported list, which the job records (shared/exports/jobs.py).
    ("registry", "GET", "/exports/{job_id}"),
    ("registry", "GET", "/exports/{job_id}/file"),
    ("verification", "GET", "/exports/{job_id}"),
    ("verification", "GET", "/exports/{job_id}/file"),
}
DCI_PREFIX = "/dci/social/registry/"
# Routes whose permission depends on a path parameter (checked in the service from its own table): one case per value.
PER_VALUE = {
    ("verification", "POST", "/proposals/{proposal_id}/actions/{action}"): ("action", ACTION_PERMISSION),
}
KOTA = "13.71"
KEC_IN, KEC_OUT = "13.71.01", "13.71.09"
KEL_IN, KEL_OUT = "13.71.01.1001", "13.71.09.1001"


@dataclass(frozen=True)
class RouteSpec:
    """One route of one service, as the matrix sees it."""

    service: str
    method: str
    path: str
    permissions: frozenset[Permission]
    authenticated: bool
    dependant: Dependant
    has_body: bool
    multipart: bool
    fixed: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        """How the route is named in failure messages."""
        suffix = "".join(f" [{k}={v}]" for k, v in self.fixed)
        return f"{self.method} /api/{self.service}{self.path}{suffix}"


def _api_routes(app: FastAPI) -> Iterator[tuple[str, set[str], Dependant]]:
    """(path, methods, dependant) of every APIRoute, also on FastAPI versions that keep included routers nested."""
    from fastapi import routing

    contexts = getattr(routing, "iter_route_contexts", None)
    if contexts is None:  # FastAPI < 0.120: the app lists its APIRoutes directly
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield route.path, set(route.methods or ()), route.dependant
        return
    for ctx in contexts(app.routes):
        if isinstance(ctx.original_route, APIRoute):
            yield str(ctx.path), set(ctx.methods or ()), ctx.dependant


def _walk(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _walk(sub)


def route_specs(data_dir: Path) -> list[RouteSpec]:
    """Every route of the three services, with the permissions its dependencies require."""
    apps = {
        "registry": create_registry(RegistrySettings(data_dir=data_dir)),
        "verification": create_verification(VerificationSettings(data_dir=data_dir)),
        "disbursement": create_disbursement(DisbursementSettings(data_dir=data_dir)),
    }
    specs: list[RouteSpec] = []
    for service, app in apps.items():
        for path, methods, dependant in _api_routes(app):
            calls = list(_walk(dependant))
            permissions = frozenset(p for c in calls if (p := getattr(c, "__tepat_permission__", None)) is not None)
            body = [f for f in dependant.body_params]
            multipart = any(type(f.field_info).__name__ in {"File", "Form"} for f in body)
            for method in sorted(methods - {"HEAD"}):
                spec = RouteSpec(
                    service=service,
                    method=method,
                    path=path,
                    permissions=permissions,
                    authenticated=current_principal in calls or path.startswith(DCI_PREFIX),
                    dependant=dependant,
                    has_body=bool(body),
                    multipart=multipart,
                )
                per_value = PER_VALUE.get((service, method, path))
                if per_value is None:
                    specs.append(spec)
                    continue
                param, table = per_value
                specs.extend(
                    replace(spec, permissions=permissions | {needed}, fixed=((param, str(value)),))
                    for value, needed in table.items()
                )
    return specs


def _path_value(annotation: Any, rng: random.Random) -> str:
    """A random id of the parameter's type (a valid member for enums, so holders reach the handler)."""
    if get_origin(annotation) is not None:
        options = [a for a in get_args(annotation) if a is not type(None)]
        if all(isinstance(a, str) for a in options) and options:  # Literal["a", "b"]
            return str(options[0])
        annotation = options[0] if options else str
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return str(next(iter(annotation)).value)
    if annotation is int:
        return str(rng.randrange(1, 10**6))
    return uuid.UUID(int=rng.getrandbits(128)).hex


def fill_path(spec: RouteSpec, rng: random.Random, given: dict[str, str] | None = None) -> str:
    """The route's URL through the gateway, path parameters from `given` or random."""
    path = spec.path
    values = {**dict(spec.fixed), **(given or {})}
    for param in spec.dependant.path_params:
        value = values.get(param.name) or _path_value(param.field_info.annotation, rng)
        path = re.sub(r"\{" + re.escape(param.name) + r"(:[^}]*)?\}", value, path)
    return f"/api/{spec.service}{path}"


async def call(client: httpx.AsyncClient, spec: RouteSpec, url: str, headers: dict[str, str]) -> httpx.Response:
    """Call one route with an empty/minimal body."""
    kwargs: dict[str, Any] = {}
    if spec.multipart:
        kwargs["files"] = {"file": ("empty.csv", b"", "text/csv")}
    elif spec.has_body:
        kwargs["json"] = {}
    return await client.request(spec.method, url, headers=headers, **kwargs)


def _settings(tmp_path: Path) -> GatewaySettings:
    # The matrix sends about a thousand requests as a handful of subjects: rate limits are not under test here.
    return GatewaySettings(
        data_dir=tmp_path,
        rate_limit_per_minute=1_000_000,
        rate_limit_burst=1_000_000,
        write_rate_limit_per_minute=1_000_000,
        address_rate_limit_per_minute=1_000_000,
        address_rate_limit_burst=1_000_000,
        anonymous_rate_limit_per_minute=1_000_000,
        anonymous_rate_limit_burst=1_000_000,
        log_json=False,
        log_level="WARNING",
    )


async def test_every_route_checks_the_permission_table_for_every_role(tmp_path: Path) -> None:
    specs = route_specs(tmp_path / "introspect")
    rng = random.Random(20260601)
    problems: list[str] = []
    for spec in specs:
        if not spec.permissions and not spec.authenticated and (spec.method, spec.path) not in PUBLIC:
            problems.append(f"{spec.label}: requires no token and is not on the PUBLIC allow-list")
        if (
            not spec.permissions
            and spec.authenticated
            and (spec.service, spec.method, spec.path) not in AUTHENTICATED_ONLY
        ):
            problems.append(f"{spec.label}: requires no permission and is not on the AUTHENTICATED_ONLY allow-list")
    assert not problems, "\n".join(problems)

    app = create_app(_settings(tmp_path))
    calls = 0
    async with running(app) as client:
        headers = {role: auth(tmp_path, role, KOTA, subject=f"matrix-{role}") for role in Role}
        for spec in specs:
            if (spec.method, spec.path) in PUBLIC:
                r = await client.request(spec.method, fill_path(spec, rng))
                if r.status_code in (401, 403) or (r.status_code >= 500 and spec.path != "/readyz"):
                    problems.append(f"{spec.label} without a token: {r.status_code}")
                continue
            url = fill_path(spec, rng)
            anonymous = await call(client, spec, url, {})
            if anonymous.status_code != 401:
                problems.append(f"{spec.label} without a token: {anonymous.status_code}, expected 401")
            for role in Role:
                calls += 1
                try:
                    r = await call(client, spec, url, headers[role])
                except Exception as exc:  # an unhandled error is a 500 in production: report it with the others
                    problems.append(f"{spec.label} as {role}: raised {type(exc).__name__}: {str(exc)[:160]}")
                    continue
                holds = spec.permissions <= permissions_of(role)
                if r.status_code >= 500:
                    problems.append(f"{spec.label} as {role}: {r.status_code} {r.text[:200]}")
                elif not holds and r.status_code != 403:
                    problems.append(f"{spec.label} as {role} (lacks {sorted(spec.permissions)}): {r.status_code}")
                elif holds and r.status_code in (401, 403):
                    problems.append(f"{spec.label} as {role} (holds {sorted(spec.permissions)}): {r.status_code}")
                if r.status_code == 403 and not r.headers["content-type"].startswith("application/problem+json"):
                    problems.append(f"{spec.label} as {role}: 403 is not a problem document")
    assert not problems, f"{len(problems)} violations:\n" + "\n".join(problems)
    guarded = [s for s in specs if (s.method, s.path) not in PUBLIC]
    assert calls == len(guarded) * len(Role)
    assert len(guarded) > 100  # the three services' route tables, not an empty walk


# --- in scope / out of scope -------------------------------------------------------------------------------------

WILAYAH_CODE = re.compile(r"^13\.71\.\d{2}(\.\d{4})?$")
# Numbers that are not counts or sums of records: they need not add up across disjoint scopes.
NOT_ADDITIVE = re.compile(
    r"^id$|_id$|seq|generation|pct|percent|rate|ratio|avg|mean|median|limit|version|max|min|months|days|year|quarter"
)
# Kota-wide configuration, the same for every reader: no counts of families in it (wilayah leaks are still checked).
CONFIGURATION = {
    ("disbursement", "/programmes"),
    ("disbursement", "/programmes/{code}"),
    ("disbursement", "/programmes/{code}/rules"),
    ("disbursement", "/programmes/{code}/rules/{version}"),
}
# Ids of kota-wide parents that rows of any kecamatan carry: they identify no family.
SHARED_PARENTS = {"tahap_id", "campaign_id", "batch_id", "rule_id", "rule_version_id", "report_id", "job_id"}


def _extract(rows: list[tuple[str, str, str, str, str]], *, disability: str = "none", pregnant: str = "tidak") -> str:
    """A DTSEN extract (one head per family) as CSV text (every head with the given disability and pregnancy)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for no_kk, nik, name, kelurahan, desil in rows:
        writer.writerow(
            {
                "no_kk": no_kk,
                "kelurahan_code": kelurahan,
                "alamat": "Jl. Nipah No. 7",
                "rt": "2",
                "rw": "5",
                "nik": nik,
                "nama": name,
                "tempat_lahir": "Padang",
                "tanggal_lahir": "",
                "jenis_kelamin": "",
                "hubungan": "kepala_keluarga",
                "status_kawin": "kawin",
                "pendidikan": "SMA",
                "status_sekolah": "none",
                "pekerjaan": "Pedagang",
                "disabilitas": disability,
                "hamil": pregnant,
                "desil": desil,
                "periode_desil": "2026-Q1",
            }
        )
    return buf.getvalue()


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _objects(v)
    elif isinstance(node, list):
        for v in node:
            yield from _objects(v)


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield k
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)


def _counts(node: Any, path: str = "") -> Iterator[tuple[str, float]]:
    """Numeric leaves reachable through dict keys only (rows in lists are checked by their wilayah codes)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, bool):
                continue
            if isinstance(v, int | float) and not NOT_ADDITIVE.search(str(k)):
                yield f"{path}.{k}", float(v)
            elif isinstance(v, dict):
                yield from _counts(v, f"{path}.{k}")


def _ids_by_wilayah(node: Any, into: dict[str, str]) -> None:
    """Remember every id-like value of an object that states its wilayah (the record's own code)."""
    for obj in _objects(node):
        code = obj.get("kelurahan_code") or obj.get("kecamatan_code")
        if not isinstance(code, str) or not WILAYAH_CODE.match(code):
            continue
        for key, value in obj.items():
            # Integer ids repeat across tables, so only the record's own string ids (uuids, household ids) count.
            if (key == "id" or key.endswith("_id")) and key not in SHARED_PARENTS and isinstance(value, str):
                into.setdefault(f"{key}={value}", code)


async def _seed(client: httpx.AsyncClient, data_dir: Path, *, sensitive: bool = False) -> dict[str, str]:
    """Families in both kecamatan (registry import), proposals, complaints, ground checks and a generated tahap; returns
    the path parameters the scoped reads need (`sensitive`: every head pregnant and severely disabled)."""
    boss = auth(data_dir, Role.VERIFIKATOR, KOTA, subject="seed-verifikator")
    kadis = auth(data_dir, Role.KEPALA_DINAS, KOTA, subject="seed-kadis")
    rows = [
        ("1371010101150001", "1371011505800001", "Budi Santoso", KEL_IN, "2"),
        ("1371010101150002", "1371011505800002", "Siti Aminah", KEL_IN, "3"),
        ("1371090101150003", "1371091505800003", "Rahmat Hidayat", KEL_OUT, "2"),
        ("1371090101150004", "1371091505800004", "Dewi Lestari", KEL_OUT, "3"),
        ("1371090101150005", "1371091505800005", "Andi Saputra", KEL_OUT, "4"),
    ]
    facts = {"disability": "severe", "pregnant": "ya"} if sensitive else {}
    files = {"file": ("extract.csv", _extract(rows, **facts).encode(), "text/csv")}
    r = await client.post("/api/registry/imports/extracts", files=files, headers=boss)
    assert r.status_code == 202, r.text
    job_url = f"/api/registry/imports/{r.json()['id']}"

    async def job() -> dict[str, Any]:
        data: dict[str, Any] = (await client.get(job_url, headers=boss)).json()
        return data

    done = await wait_for(job, lambda j: j["status"] in ("succeeded", "failed"), timeout=60)
    assert done["status"] == "succeeded", done

    families: dict[str, list[str]] = {}
    for kel in (KEL_IN, KEL_OUT):
        page = await client.get("/api/registry/families", params={"kelurahan": kel}, headers=boss)
        assert page.status_code == 200, page.text
        families[kel] = [f["id"] for f in page.json()["items"]]
    assert [len(families[KEL_IN]), len(families[KEL_OUT])] == [2, 3]

    # Verification learns the families from registry events: a proposal names one once its read model has it.
    for kel in (KEL_IN, KEL_OUT):
        for hid in families[kel]:
            body = {"kind": "desil_review", "channel": "digital_agent", "household_id": hid}

            async def propose(body: dict[str, Any] = body) -> httpx.Response:
                return await client.post("/api/verification/proposals", json=body, headers=boss)

            created = await wait_for(propose, lambda r: r.status_code != 404, timeout=30)
            assert created.status_code == 201, created.text
        r = await client.post(
            "/api/verification/proposals",
            json={"kind": "new_family", "channel": "kelurahan", "kelurahan_code": kel},
            headers=boss,
        )
        assert r.status_code == 201, r.text
    for kel in (KEL_IN, KEL_OUT):
        complaint = {"channel": "counter", "category": "other", "description": "scope", "kelurahan_code": kel}
        r = await client.post("/api/verification/complaints", json=complaint, headers=boss)
        assert r.status_code == 201, r.text
    campaign = await client.post(
        "/api/verification/campaigns",
        json={"name": "scope", "kecamatan_codes": [KEC_IN, KEC_OUT], "not_verified_months": 0},
        headers=boss,
    )
    assert campaign.status_code == 201, campaign.text
    assert campaign.json()["created_checks"] == 5

    rule = {
        "effective_from": "2025-01-01",
        "definition": {"desil_min": 1, "desil_max": 4, "amount": {"kind": "flat", "amount": 600000}},
    }
    r = await client.post("/api/disbursement/programmes/SEMBAKO/rules", json=rule, headers=boss)
    assert r.status_code == 201, r.text
    version = r.json()["version"]
    tahap = await client.post(
        "/api/disbursement/tahap",
        json={"programme_code": "SEMBAKO", "label": "scope", "as_of": "2026-03-01", "rule_version": version},
        headers=boss,
    )
    assert tahap.status_code == 201, tahap.text
    tahap_id = str(tahap.json()["id"])

    async def explain(hid: str = families[KEL_OUT][-1]) -> int:
        url = f"/api/disbursement/programmes/SEMBAKO/explain/{hid}"
        return (await client.get(url, headers=boss)).status_code

    await wait_for(explain, lambda status: status == 200, timeout=30)
    generated = await client.post(f"/api/disbursement/tahap/{tahap_id}/generate", headers=boss)
    assert generated.status_code == 200, generated.text
    assert (await client.post(f"/api/disbursement/tahap/{tahap_id}/approve", headers=kadis)).status_code == 200
    return {
        "tahap_id": tahap_id,
        "code": "SEMBAKO",
        "version": str(version),
        "campaign_id": str(campaign.json()["id"]),
    }


async def test_a_tksk_sees_only_their_kecamatan_in_every_list_count_and_aggregate(tmp_path: Path) -> None:
    specs = route_specs(tmp_path / "introspect")
    tksk_perms = permissions_of(Role.TKSK)
    app = create_app(_settings(tmp_path))
    async with running(app) as client:
        given = await _seed(client, tmp_path)
        # The kota-wide reader of each route: the auditor, or the verifikator where the auditor lacks the permission
        # (the correction queue is for those who fix rows).
        kota_readers = [
            (permissions_of(role), auth(tmp_path, role, KOTA, subject=f"scope-{role.value}"))
            for role in (Role.AUDITOR, Role.VERIFIKATOR)
        ]
        inside = auth(tmp_path, Role.TKSK, KEC_IN, subject="scope-tksk-01")
        outside = auth(tmp_path, Role.TKSK, KEC_OUT, subject="scope-tksk-09")
        # Reads a TKSK may make whose path parameters the seed can fill (collection reads and tahap reports).
        # (Exports and PDF reports are files: each is tested against its JSON list, figures and scope, in the services'
        # export and report tests, so the JSON lists here stand for them.)
        reads = [
            s
            for s in specs
            if s.method == "GET"
            and not s.path.endswith(("/export", ".pdf"))
            and s.permissions
            and s.permissions <= tksk_perms
            and all(p.name in given for p in s.dependant.path_params)
            # A report of one kecamatan and period (required query parameters) is scope-tested with its own
            # parameters in the verification report tests (another kecamatan: 404).
            and not any(p.field_info.is_required() for p in s.dependant.query_params)
        ]
        assert len(reads) >= 15, [s.label for s in reads]
        rng = random.Random(7)
        answers: dict[str, tuple[Any, Any, Any]] = {}
        refused: list[str] = []
        ids: dict[str, str] = {}
        for spec in reads:
            url = fill_path(spec, rng, given)
            kota = next(headers for perms, headers in kota_readers if spec.permissions <= perms)
            responses = [await client.get(url, headers=h) for h in (kota, inside, outside)]
            assert responses[0].status_code == 200, f"{spec.label}: {responses[0].status_code} {responses[0].text}"
            for r in responses[1:]:
                # A kota-only read may refuse a scoped caller outright; that leaks nothing.
                assert r.status_code in (200, 403), f"{spec.label}: {r.status_code} {r.text[:300]}"
                assert r.headers["content-type"].startswith(("application/json", "application/problem+json"))
            if any(r.status_code == 403 for r in responses[1:]):
                refused.append(spec.label)
                _ids_by_wilayah(responses[0].json(), ids)
                continue
            bodies = tuple(r.json() for r in responses)
            answers[spec.label] = bodies
            _ids_by_wilayah(bodies[0], ids)

        # The seed reached every service, so the checks below are not vacuous.
        seen = {code for body in answers.values() for code in _strings(body[0]) if WILAYAH_CODE.match(code)}
        assert {KEL_OUT, KEC_OUT} & seen
        assert {KEL_IN, KEC_IN} & seen
        for service in ("registry", "verification", "disbursement"):
            assert any(
                code_within(v, KEC_OUT)
                for label, (body, _, _) in answers.items()
                if f"/api/{service}/" in label
                for v in _strings(body)
                if WILAYAH_CODE.match(v)
            ), f"no {KEC_OUT} data seen in {service}"

        leaks: list[str] = []
        for label, (all_, mine, theirs) in answers.items():
            for value in _strings(mine):
                if WILAYAH_CODE.match(value) and not code_within(value, KEC_IN) and not code_within(KEC_IN, value):
                    leaks.append(f"{label}: TKSK {KEC_IN} sees wilayah {value}")
            for obj in _objects(mine):
                for key, value in obj.items():
                    code = ids.get(f"{key}={value}")
                    if code is not None and not code_within(code, KEC_IN):
                        leaks.append(f"{label}: TKSK {KEC_IN} sees {key}={value} of {code}")
            for value in _strings(mine):
                if ids.get(f"household_id={value}", KEC_IN).startswith(KEC_OUT):
                    leaks.append(f"{label}: TKSK {KEC_IN} sees household {value} of {KEC_OUT}")
            if any(label == f"GET /api/{svc}{path}" for svc, path in CONFIGURATION):
                continue
            # Counts and sums over disjoint scopes cannot exceed the kota's: an unscoped count shows here.
            kota_counts = dict(_counts(all_))
            theirs_counts = dict(_counts(theirs))
            for path, n in _counts(mine):
                if path in kota_counts and path in theirs_counts and n + theirs_counts[path] > kota_counts[path]:
                    leaks.append(
                        f"{label}: {path} is {n} for {KEC_IN} and {theirs_counts[path]} for {KEC_OUT},"
                        f" but {kota_counts[path]} for the kota"
                    )
        assert not leaks, "\n".join(leaks)

        # Single records of the other kecamatan: never readable by id. A detail route `<list>/{x}...` takes the id
        # of a record its list route returned for the kota; a parameter named like a field (`household_id`) that.
        theirs_by_list: dict[str, str] = {}
        theirs_by_field: dict[str, str] = {}
        for spec in reads:
            if spec.label not in answers:
                continue
            for obj in _objects(answers[spec.label][0]):
                code = obj.get("kelurahan_code") or obj.get("kecamatan_code")
                if not isinstance(code, str) or not code_within(code, KEC_OUT):
                    continue
                for key, value in obj.items():
                    if key == "id" and not spec.dependant.path_params:
                        theirs_by_list.setdefault(f"{spec.service}{spec.path}", str(value))
                    elif key.endswith("_id") and key not in SHARED_PARENTS and isinstance(value, str | int):
                        theirs_by_field.setdefault(key, str(value))
        checked = 0
        for spec in specs:
            if spec.method != "GET" or not spec.permissions <= tksk_perms or not spec.dependant.path_params:
                continue
            first = spec.dependant.path_params[0].name
            head = spec.path.split("/{", 1)[0]
            theirs = {p.name: theirs_by_field[p.name] for p in spec.dependant.path_params if p.name in theirs_by_field}
            if f"{spec.service}{head}" in theirs_by_list:
                theirs[first] = theirs_by_list[f"{spec.service}{head}"]
            values = {**given, **theirs}
            if not theirs or not all(p.name in values for p in spec.dependant.path_params):
                continue
            theirs_r = await client.get(fill_path(spec, rng, values), headers=inside)
            checked += 1
            if theirs_r.status_code not in (403, 404):
                leaks.append(f"{spec.label} of {KEC_OUT} as TKSK {KEC_IN}: {theirs_r.status_code}")
        assert not leaks, "\n".join(leaks)
        assert checked >= 5, (sorted(theirs_by_list), sorted(theirs_by_field))


# --- writes against existing rows out of scope --------------------------------------------------------------------


async def test_officer_writes_check_the_existing_row_and_the_new_one_for_every_managing_role(tmp_path: Path) -> None:
    """Every role that may manage officers, scoped to one kecamatan, tries to take over rows of another kecamatan and
    of the kota by moving them into its own scope: refused, rows unchanged; a row inside its scope it may move."""
    managers = [role for role in Role if Permission.MANAGE_OFFICERS in permissions_of(role)]
    assert managers
    app = create_app(_settings(tmp_path))
    async with running(app) as client:
        kota = auth(tmp_path, managers[0], KOTA, subject="matrix-officers-kota")
        existing = {
            "tksk-out": {"subject": "tksk-out", "role": "tksk", "wilayah_code": KEC_OUT},
            "verif-kota": {"subject": "verif-kota", "role": "verifikator", "wilayah_code": KOTA},
            "psm-in": {"subject": "psm-in", "role": "psm", "wilayah_code": KEL_IN},
        }
        for subject, body in existing.items():
            r = await client.put(f"/api/verification/officers/{subject}", json=body, headers=kota)
            assert r.status_code == 200, r.text
        problems: list[str] = []
        for role in managers:
            scoped = auth(tmp_path, role, KEC_IN, subject=f"matrix-officers-{role}")
            for subject in ("tksk-out", "verif-kota"):
                takeover = {**existing[subject], "wilayah_code": KEL_IN, "active": False}
                r = await client.put(f"/api/verification/officers/{subject}", json=takeover, headers=scoped)
                if r.status_code != 403 or r.json().get("code") != "out_of_scope":
                    problems.append(f"{role} {KEC_IN} moving {subject} into its scope: {r.status_code} {r.text[:200]}")
            r = await client.put(
                "/api/verification/officers/psm-in", json={**existing["psm-in"], "active": False}, headers=scoped
            )
            if r.status_code != 200:
                problems.append(f"{role} {KEC_IN} updating psm-in inside its scope: {r.status_code} {r.text[:200]}")
        assert not problems, "\n".join(problems)
        rows = (await client.get("/api/verification/officers", headers=kota)).json()
        assert {o["subject"]: (o["wilayah_code"], o["active"]) for o in rows} == {
            "tksk-out": (KEC_OUT, True),
            "verif-kota": (KOTA, True),
            "psm-in": (KEL_IN, False),
        }
