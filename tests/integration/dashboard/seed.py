"""A small city for the dashboard test, created through the public API of a running gateway only.

Two kecamatan, ten families: Padang Selatan (13.71.01) has six, one of them with an open flag; Kuranji
(13.71.09) has four. Seven come from a DTSEN extract (with desil), three are registered one by one (no desil).
Every active family gets a revalidation ground check assigned to its kecamatan's TKSK; one is visited and
approved. A SEMBAKO tahap lists the five active families of desil 1-4; the bank reports two paid, one failed
and one paid with the wrong amount (refused for the line, a reconciliation break).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from demo.photos import house_photo
from shared.auth.principal import Role
from tests.support.api import token
from tests.support.waiting import wait_for

KEC_SELATAN = "13.71.01"
KEC_KURANJI = "13.71.09"
TKSK_SELATAN = "tksk-selatan"
TKSK_KURANJI = "tksk-kuranji"
PERIOD = "2026-Q1"
# (kelurahan, desil) of the extract's families.
EXTRACT_FAMILIES = [
    ("13.71.01.1001", 1),
    ("13.71.01.1001", 2),
    ("13.71.01.1002", 3),
    ("13.71.01.1002", 6),
    ("13.71.09.1001", 2),
    ("13.71.09.1001", 4),
    ("13.71.09.1002", 7),
]
EXTRACT_COLUMNS = (
    "no_kk",
    "kelurahan_code",
    "alamat",
    "rt",
    "rw",
    "nik",
    "nama",
    "tempat_lahir",
    "tanggal_lahir",
    "jenis_kelamin",
    "hubungan",
    "status_kawin",
    "pendidikan",
    "status_sekolah",
    "pekerjaan",
    "disabilitas",
    "hamil",
    "desil",
    "periode_desil",
)
FAMILIES = 10
ACTIVE = 9  # all but the flagged one
LISTED = 5  # active, desil 1-4
AMOUNT = 600_000


@dataclass(frozen=True)
class Tokens:
    """Bearer tokens of the people in the scenario."""

    verifikator: str
    kepala_dinas: str
    bank: str
    tksk_selatan: str
    tksk_kuranji: str

    @staticmethod
    def issue(data_dir: Path) -> Tokens:
        """Sign every token with the server's dev key."""
        return Tokens(
            verifikator=token(data_dir, Role.VERIFIKATOR, "13.71", subject="verifikator-dinsos"),
            kepala_dinas=token(data_dir, Role.KEPALA_DINAS, "13.71", subject="kadis-dinsos"),
            bank=token(data_dir, Role.SYSTEM, "13.71", subject="bank-bri"),
            tksk_selatan=token(data_dir, Role.TKSK, KEC_SELATAN, subject=TKSK_SELATAN),
            tksk_kuranji=token(data_dir, Role.TKSK, KEC_KURANJI, subject=TKSK_KURANJI),
        )


def bearer(tok: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {tok}"}


async def call(client: httpx.AsyncClient, method: str, url: str, tok: str, expect: int = 200, **kw: Any) -> Any:
    """One API call that must answer `expect`; returns the JSON body."""
    r = await client.request(method, url, headers={**bearer(tok), **kw.pop("headers", {})}, **kw)
    assert r.status_code == expect, (method, url, r.status_code, r.text)
    return r.json() if r.content else None


def _kk(kecamatan: str, serial: int) -> str:
    return f"13710{kecamatan[-1]}010115{serial:04d}"


def _nik(kecamatan: str, serial: int, *, woman: bool = False) -> str:
    return f"13710{kecamatan[-1]}{'55' if woman else '15'}0580{serial:04d}"


def _extract_csv() -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(EXTRACT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for i, (kel, desil) in enumerate(EXTRACT_FAMILIES, start=1):
        kec = kel.rsplit(".", 1)[0]
        base = {
            "no_kk": _kk(kec, i),
            "kelurahan_code": kel,
            "alamat": f"Jl. Contoh No. {i}",
            "rt": "1",
            "rw": "2",
            "tempat_lahir": "Padang",
            "status_kawin": "kawin",
            "pendidikan": "SMA",
            "status_sekolah": "none",
            "pekerjaan": "Pedagang",
            "disabilitas": "none",
            "hamil": "tidak",
            "desil": str(desil),
            "periode_desil": PERIOD,
        }
        writer.writerow({**base, "nik": _nik(kec, i), "nama": f"Kepala {i}", "hubungan": "kepala_keluarga"})
        writer.writerow({**base, "nik": _nik(kec, i, woman=True), "nama": f"Istri {i}", "hubungan": "istri"})
    return buf.getvalue().encode()


def _family(kel: str, serial: int, *, sex_mismatch: bool = False) -> dict[str, Any]:
    kec = kel.rsplit(".", 1)[0]
    head = _nik(kec, serial)
    members = [{"nik": head, "name": f"Kepala {serial}", "relationship": "kepala_keluarga"}]
    if sex_mismatch:
        # A woman's NIK (day + 40) recorded as male: the registry raises sex_nik_mismatch.
        members.append(
            {"nik": _nik(kec, serial, woman=True), "name": f"Istri {serial}", "relationship": "istri", "sex": "L"}
        )
    return {
        "no_kk": _kk(kec, serial),
        "head_nik": head,
        "address": f"Jl. Contoh No. {serial}",
        "rt": "3",
        "rw": "4",
        "kelurahan_code": kel,
        "members": members,
    }


def _visit(photo: dict[str, str]) -> dict[str, Any]:
    return {
        "visited_at": datetime.now(UTC).isoformat(),
        "questionnaire": {
            "house_ownership": "own",
            "floor_area_m2": 36,
            "floor_type": "cement",
            "wall_type": "brick",
            "roof_type": "zinc",
            "drinking_water": "piped",
            "sanitation": "own_toilet",
            "electricity_va": 900,
            "electricity_subsidised": True,
        },
        "gps": {"lat": -0.95, "lon": 100.35},
        "photos": [photo],
        "outcome": "layak",
    }


async def seed_registry(client: httpx.AsyncClient, t: Tokens) -> None:
    """Seven families from an extract, three registered one by one (one of them flagged)."""
    files = {"file": ("extract.csv", _extract_csv(), "text/csv")}
    job = await call(client, "POST", "/api/registry/imports/extracts", t.verifikator, 202, files=files)

    async def job_state() -> dict[str, Any]:
        data: dict[str, Any] = await call(client, "GET", f"/api/registry/imports/{job['id']}", t.verifikator)
        return data

    done = await wait_for(job_state, lambda j: j["status"] in ("succeeded", "failed"), timeout=30)
    assert done["status"] == "succeeded", done
    fam = "/api/registry/families"
    flagged = await call(client, "POST", fam, t.verifikator, 201, json=_family("13.71.01.1002", 21, sex_mismatch=True))
    assert flagged["open_flags"] == ["sex_nik_mismatch"]
    await call(client, "POST", fam, t.verifikator, 201, json=_family("13.71.01.1001", 22))
    await call(client, "POST", fam, t.verifikator, 201, json=_family("13.71.09.1002", 23))


async def register_family(client: httpx.AsyncClient, t: Tokens, kelurahan: str, serial: int) -> None:
    """One more family, registered through the API (no desil: never listed)."""
    await call(client, "POST", "/api/registry/families", t.verifikator, 201, json=_family(kelurahan, serial))


async def seed_rule(client: httpx.AsyncClient, t: Tokens) -> int:
    """A SEMBAKO rule version (desil 1-4, flat Rp600k); waits until disbursement has seen every family."""
    body = {
        "effective_from": "2025-01-01",
        "definition": {"desil_min": 1, "desil_max": 4, "amount": {"kind": "flat", "amount": AMOUNT}},
    }
    rule = await call(client, "POST", "/api/disbursement/programmes/SEMBAKO/rules", t.verifikator, 201, json=body)
    version = int(rule["version"])

    async def dry_run() -> dict[str, Any]:
        url = f"/api/disbursement/programmes/SEMBAKO/rules/{version}/dry-run"
        data: dict[str, Any] = await call(client, "POST", url, t.verifikator)
        return data

    def everyone(d: dict[str, Any]) -> bool:
        return int(d["eligible"]) + int(d["over_quota"]) + sum(int(n) for n in d["excluded"].values()) == FAMILIES

    result = await wait_for(dry_run, everyone, timeout=30)
    assert result["eligible"] == LISTED, result
    return version


async def seed_verification(client: httpx.AsyncClient, t: Tokens) -> None:
    """TKSK of both kecamatan, a revalidation campaign, one visit approved by the verifikator, three complaints."""
    for subject, kec in ((TKSK_SELATAN, KEC_SELATAN), (TKSK_KURANJI, KEC_KURANJI)):
        officer = {"subject": subject, "role": "tksk", "wilayah_code": kec}
        await call(client, "PUT", f"/api/verification/officers/{subject}", t.kepala_dinas, json=officer)
    # The four-eyes rule finds the approver's own family by their NIK (a Bandung one: in no family here).
    approver: dict[str, Any] = {"subject": "verifikator-dinsos", "role": "verifikator", "wilayah_code": "13.71"}
    approver |= {"nik": "3273014505900007", "no_registered_family": True}
    await call(client, "PUT", "/api/verification/officers/verifikator-dinsos", t.kepala_dinas, json=approver)
    # The campaign skips families that already have an open revalidation check, so a repeat only adds the
    # families verification had not seen yet (events arrive asynchronously).
    opened = 0

    async def campaign() -> int:
        nonlocal opened
        body: dict[str, Any] = {
            "name": "Revalidasi sebelum tahap I",
            "kecamatan_codes": [KEC_SELATAN, KEC_KURANJI],
            "not_verified_months": 0,
        }
        out = await call(client, "POST", "/api/verification/campaigns", t.verifikator, 201, json=body)
        opened += int(out["created_checks"])
        return opened

    assert await wait_for(campaign, lambda n: n >= ACTIVE, timeout=30) == ACTIVE
    page = await call(
        client, "GET", f"/api/verification/ground-checks?assigned_to={TKSK_SELATAN}&limit=1", t.verifikator
    )
    check_id, kelurahan = page["items"][0]["id"], page["items"][0]["kelurahan_code"]
    form = {"purpose": "visit_photo", "kelurahan_code": kelurahan}
    files = {"file": ("rumah.jpg", house_photo("dashboard-seed"), "image/jpeg")}
    stored = await call(client, "POST", "/api/verification/evidence", t.tksk_selatan, 201, data=form, files=files)
    photo = {"sha256": stored["sha256"], "media_type": stored["media_type"]}
    await call(client, "POST", f"/api/verification/ground-checks/{check_id}/visit", t.tksk_selatan, json=_visit(photo))
    await call(client, "POST", f"/api/verification/ground-checks/{check_id}/approve", t.verifikator)
    # Complaints: two open in Padang Selatan (one of them rejected at once), one open in Kuranji.
    for kec, category, extra in (
        (KEC_SELATAN, "payment", {"tahap_code": "SEMBAKO-2026-I"}),
        (KEC_SELATAN, "other", {}),
        (KEC_KURANJI, "exclusion", {}),
    ):
        body = {"channel": "counter", "category": category, "description": "dasbor", "kelurahan_code": kec + ".1001"}
        made = await call(client, "POST", "/api/verification/complaints", t.verifikator, 201, json=body | extra)
        if category == "other":
            closing = {"reason": "duplicate"}
            await call(client, "POST", f"/api/verification/complaints/{made['id']}/reject", t.verifikator, json=closing)


async def seed_tahap(client: httpx.AsyncClient, t: Tokens, rule_version: int) -> str:
    """Generate and approve a SEMBAKO tahap, import a bank report, reconcile; returns the tahap id."""
    body = {"programme_code": "SEMBAKO", "label": "2026-I", "as_of": "2026-03-01", "rule_version": rule_version}
    tahap_id = str((await call(client, "POST", "/api/disbursement/tahap", t.verifikator, 201, json=body))["id"])
    generated = await call(client, "POST", f"/api/disbursement/tahap/{tahap_id}/generate", t.verifikator)
    assert generated["listed_count"] == LISTED, generated
    await call(client, "POST", f"/api/disbursement/tahap/{tahap_id}/approve", t.kepala_dinas)
    lines = await call(client, "GET", f"/api/disbursement/tahap/{tahap_id}/payment-lines?limit=100", t.verifikator)
    selatan = sorted((x for x in lines if x["kecamatan_code"] == KEC_SELATAN), key=lambda x: x["line_id"])
    kuranji = sorted((x for x in lines if x["kecamatan_code"] == KEC_KURANJI), key=lambda x: x["line_id"])
    assert (len(selatan), len(kuranji)) == (3, 2)
    rows = [
        (selatan[0]["line_id"], "paid", AMOUNT, "TRX-1", ""),
        (selatan[1]["line_id"], "failed", AMOUNT, "TRX-2", "not_found"),
        (selatan[2]["line_id"], "paid", AMOUNT - 100_000, "TRX-3", ""),  # wrong amount: a break
        (kuranji[0]["line_id"], "paid", AMOUNT, "TRX-4", ""),
    ]
    text = "line_id,status,amount,date,reference,failure_reason\n" + "".join(
        f"{line},{status},{amount},2026-03-20,{ref},{reason}\n" for line, status, amount, ref, reason in rows
    )
    files = {"file": ("bank.csv", text.encode(), "text/csv")}
    report = await call(
        client,
        "POST",
        f"/api/disbursement/tahap/{tahap_id}/payer-reports",
        t.bank,
        201,
        files=files,
        data={"source": "bank"},
    )
    # The wrong amount is refused for the line and kept for reconciliation, which opens a break.
    assert (report["rows_applied"], [e["reason"] for e in report["errors"]]) == (3, ["amount_differs"]), report
    await call(client, "POST", f"/api/disbursement/tahap/{tahap_id}/reconcile", t.verifikator)
    return tahap_id


async def seed_city(client: httpx.AsyncClient, t: Tokens) -> str:
    """The whole scenario; returns the tahap id."""
    await seed_registry(client, t)
    version = await seed_rule(client, t)
    await seed_verification(client, t)
    return await seed_tahap(client, t, version)
