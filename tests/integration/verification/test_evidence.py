"""Evidence files over the API: upload, scope, limits, download; visits and sanggah retried with an Idempotency-Key."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from services.verification.app import create_app
from services.verification.evidence.models import evidence_file
from services.verification.groundchecks.models import ground_check
from services.verification.objections.models import objection
from services.verification.settings import VerificationSettings
from tests.integration.verification.helpers import KEC_A, KEC_B, KEL_A, KEL_B, Api, seed_family, visit_body
from tests.support.api import running
from tests.support.images import phone_jpeg

pytestmark = pytest.mark.infra


async def upload(
    api: Api, who: dict[str, str], data: bytes, *, media_type: str = "image/jpeg", kelurahan: str = KEL_A, **form: str
) -> httpx.Response:
    """POST /evidence as a multipart form."""
    fields = {"purpose": "visit_photo", "kelurahan_code": kelurahan, **form}
    files = {"file": ("photo", data, media_type)}
    return await api.client.post("/evidence", headers=who, data=fields, files=files)


async def test_a_photo_is_stored_cleaned_and_served_only_within_scope(api: Api) -> None:
    tksk_a = api.as_("tksk", KEC_A, subject="tksk-a")
    original = phone_jpeg()
    r = await upload(api, tksk_a, original, keep_gps="true")
    assert r.status_code == 201, r.text
    stored = r.json()
    assert (stored["media_type"], stored["purpose"], stored["kelurahan_code"]) == ("image/jpeg", "visit_photo", KEL_A)
    assert (stored["gps_lat"], stored["gps_lon"]) == pytest.approx((-0.95, 100.35))
    assert stored["uploaded_by"] == "tksk-a"

    # The hash is of the kept bytes, which are served back as they are: no EXIF, no owner's name.
    got = await api.client.get(f"/evidence/{stored['sha256']}", headers=api.as_("lurah", KEL_A))
    assert got.status_code == 200
    assert got.headers["content-type"] == "image/jpeg"
    assert hashlib.sha256(got.content).hexdigest() == stored["sha256"]
    assert stored["size_bytes"] == len(got.content)
    assert b"Budi Santoso" not in got.content
    assert hashlib.sha256(original).hexdigest() != stored["sha256"]
    settings = api.runtime.settings
    assert isinstance(settings, VerificationSettings)
    assert (settings.evidence_path / stored["sha256"][:2] / stored["sha256"][2:4] / stored["sha256"]).is_file()

    # Uploading the same photo again is the same file, one record.
    again = await upload(api, tksk_a, original)
    assert (again.status_code, again.json()["sha256"]) == (201, stored["sha256"])
    async with api.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(evidence_file)) == 1

    # Another kecamatan neither sees it nor learns that it exists.
    other = await api.client.get(f"/evidence/{stored['sha256']}", headers=api.as_("tksk", KEC_B, subject="tksk-b"))
    unknown = await api.client.get(f"/evidence/{'0' * 64}", headers=api.as_("tksk", KEC_B, subject="tksk-b"))
    assert (other.status_code, unknown.status_code) == (404, 404)
    assert other.json()["detail"] == unknown.json()["detail"]


async def test_bad_uploads_are_refused_with_the_reason_and_store_nothing(api: Api) -> None:
    tksk_a = api.as_("tksk", KEC_A, subject="tksk-a")
    out_of_scope = await upload(api, tksk_a, phone_jpeg(), kelurahan=KEL_B)
    assert (out_of_scope.status_code, out_of_scope.json()["errors"][0]["field"]) == (403, "kelurahan_code")
    not_a_jpeg = await upload(api, tksk_a, b"%PDF-1.4 pretending")
    assert (not_a_jpeg.status_code, not_a_jpeg.json()["code"]) == (415, "media_type.mismatch")
    exe = await upload(api, tksk_a, b"MZ\x90\x00", media_type="application/octet-stream")
    assert (exe.status_code, exe.json()["code"]) == (415, "media_type.unsupported")
    broken = await upload(api, tksk_a, b"\xff\xd8\xff\xe0garbage")
    assert (broken.status_code, broken.json()["errors"]) == (422, [{"field": "file", "reason": "image.unreadable"}])
    bad_purpose = await upload(api, tksk_a, phone_jpeg(), purpose="selfie")
    assert bad_purpose.status_code == 422
    auditor = await upload(api, api.as_("auditor"), phone_jpeg())
    assert auditor.status_code == 403
    bad_hash = await api.client.get("/evidence/not-a-hash", headers=tksk_a)
    assert bad_hash.status_code == 422
    async with api.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(evidence_file)) == 0


async def test_the_size_limit_is_a_413(pg_settings: Any) -> None:
    settings = pg_settings(VerificationSettings, auto_migrate=True, run_workers=False, evidence_max_bytes=4096)
    app = create_app(settings)
    async with running(app) as client:
        api = Api(client, settings.data_dir, app)
        r = await upload(api, api.as_("tksk", KEC_A, subject="tksk-a"), phone_jpeg(800, 600, gps=False))
        assert (r.status_code, r.json()["code"]) == (413, "file_too_large")
        assert not settings.evidence_path.exists() or not any(settings.evidence_path.rglob("*"))


async def _assigned_check(api: Api) -> int:
    boss = api.as_("verifikator", subject="verif-1")
    await api.officer("tksk-a", "tksk", KEC_A)
    hid = await seed_family(api.runtime, kelurahan=KEL_A, flags=["deceased_dukcapil"])
    page = await api.call("GET", f"/ground-checks?household_id={hid}", boss)
    check_id: int = page["items"][0]["id"]
    return check_id


async def test_a_visit_sent_twice_with_one_key_is_one_visit(api: Api) -> None:
    check_id = await _assigned_check(api)
    tksk_a = {**api.as_("tksk", KEC_A, subject="tksk-a"), "Idempotency-Key": "visit-7f3a"}
    body = visit_body(photo=await api.photo())
    first = await api.client.post(f"/ground-checks/{check_id}/visit", headers=tksk_a, json=body)
    assert first.status_code == 200, first.text
    # The phone never saw the answer and sends the same visit again: the first answer, no second transition.
    second = await api.client.post(f"/ground-checks/{check_id}/visit", headers=tksk_a, json=body)
    assert (second.status_code, second.json(), second.headers["idempotent-replayed"]) == (200, first.json(), "true")
    # The same key for a different visit is a mistake the officer must see.
    other = await api.client.post(
        f"/ground-checks/{check_id}/visit",
        headers=tksk_a,
        json=visit_body("tidak_layak", "moved", photo=await api.photo()),
    )
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    # Without the key, a second submission meets the state machine (the visit is already in).
    plain = {k: v for k, v in tksk_a.items() if k != "Idempotency-Key"}
    again = await api.client.post(f"/ground-checks/{check_id}/visit", headers=plain, json=body)
    assert again.status_code == 409
    async with api.runtime.sessions() as s:
        row = (await s.execute(select(ground_check).where(ground_check.c.id == check_id))).one()
    assert (row.status, row.outcome, row.version) == ("visited", "layak", first.json()["version"])


async def test_a_sanggah_sent_twice_with_one_key_is_one_sanggah(api: Api) -> None:
    hid = await seed_family(api.runtime, kelurahan=KEL_A)
    operator = {**api.as_("operator_kelurahan", KEL_A, subject="op-a"), "Idempotency-Key": "sanggah-1"}
    photo = (await upload(api, api.as_("operator_kelurahan", KEL_A, subject="op-a"), phone_jpeg())).json()
    body = {
        "household_id": hid,
        "objector_kelurahan_code": KEL_A,
        "grounds": "well_off",
        "photo": {"sha256": photo["sha256"], "media_type": "image/jpeg"},
        "gps": {"lat": -0.95, "lon": 100.35},
    }
    first = await api.client.post("/objections", headers=operator, json=body)
    second = await api.client.post("/objections", headers=operator, json=body)
    assert (first.status_code, second.status_code) == (201, 201), first.text
    assert second.json() == first.json()
    async with api.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(objection)) == 1


async def test_evidence_in_embedded_mode(sqlite_settings: Any) -> None:
    settings = sqlite_settings(VerificationSettings, run_workers=False)
    app = create_app(settings)
    async with running(app) as client:
        api = Api(client, settings.data_dir, app)
        r = await upload(api, api.as_("psm", KEL_A, subject="psm-a"), phone_jpeg(gps=False))
        assert r.status_code == 201, r.text
        got = await client.get(f"/evidence/{r.json()['sha256']}", headers=api.as_("psm", KEL_A, subject="psm-a"))
        assert hashlib.sha256(got.content).hexdigest() == r.json()["sha256"]
        assert settings.evidence_path == settings.data_dir / "evidence"


async def test_no_record_keeps_a_hash_without_its_file(api: Api) -> None:
    check_id = await _assigned_check(api)
    tksk_a = api.as_("tksk", KEC_A, subject="tksk-a")
    stored = await api.photo("front of the house")
    invented = {"sha256": hashlib.sha256(b"a photo nobody uploaded").hexdigest(), "media_type": "image/jpeg"}
    body = visit_body(photo=stored) | {"photos": [stored, invented]}
    refused = await api.call("POST", f"/ground-checks/{check_id}/visit", tksk_a, body, expect=422)
    assert (refused["code"], refused["errors"]) == (
        "evidence_not_stored",
        [{"field": "photos[1].sha256", "reason": "evidence.not_stored"}],
    )
    check = await api.call("GET", f"/ground-checks/{check_id}", tksk_a)
    assert (check["status"], check["photos"]) == ("assigned", None)  # nothing half-written
    done = await api.call("POST", f"/ground-checks/{check_id}/visit", tksk_a, visit_body(photo=stored))
    assert done["photos"] == [stored]
