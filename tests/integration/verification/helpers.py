"""Helpers of the verification tests: families in the read model, officers, visits, tokens."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from services.verification.handlers import apply_household_event
from services.verification.settings import VerificationSettings
from shared.events.envelope import EventEnvelope, utcnow
from shared.events.household import DataStatus, HouseholdEventType, HouseholdState
from shared.privacy.digest import nik_digest
from shared.runtime.service import ServiceRuntime
from tests.support.api import auth

KEC_A = "13.71.01"
KEL_A = "13.71.01.1001"
KEL_A2 = "13.71.01.1002"
KEC_B = "13.71.09"
KEL_B = "13.71.09.1001"


def runtime_of(app: FastAPI) -> ServiceRuntime:
    """The running app's runtime."""
    rt: ServiceRuntime = app.state.runtime
    return rt


def household_envelope(
    household_id: str,
    version: int,
    *,
    kelurahan: str = KEL_A,
    desil: int | None = 3,
    flags: list[str] | None = None,
    status: DataStatus = DataStatus.ACTIVE,
    member_digests: list[str] | None = None,
) -> EventEnvelope:
    """A registry.household.v1 envelope as the registry emits it."""
    now = utcnow()
    state = HouseholdState(
        household_id=household_id,
        kecamatan_code=kelurahan.rsplit(".", 1)[0],
        kelurahan_code=kelurahan,
        data_status=status,
        desil=desil,
        desil_period="2026-Q3",
        open_flags=flags or [],
        member_digests=member_digests,
    )
    return EventEnvelope(
        event_type=HouseholdEventType.REGISTERED if version == 1 else HouseholdEventType.UPDATED,
        source="registry",
        subject=household_id,
        aggregate_version=version,
        occurred_at=now,
        recorded_at=now,
        data=state.model_dump(mode="json"),
    )


def officer_nik(subject: str) -> str:
    """A well-formed NIK of its own for each officer subject (Padang, born 5 May 1990)."""
    return f"137101450590{1 + int(hashlib.sha256(subject.encode()).hexdigest(), 16) % 9999:04d}"


async def seed_family(
    runtime: ServiceRuntime, household_id: str | None = None, *, niks: list[str] | None = None, **kwargs: Any
) -> str:
    """Put a family into the read model (through the handler, as the consumer would); `niks`: its members' NIKs,
    which the event carries as keyed digests."""
    hid = household_id or f"hh-{uuid.uuid4().hex[:10]}"
    settings = runtime.settings
    assert isinstance(settings, VerificationSettings)
    if niks is not None:
        kwargs["member_digests"] = [nik_digest(n, settings.nik_digest_secret()) for n in niks]
    async with runtime.sessions() as session, session.begin():
        await apply_household_event(session, household_envelope(hid, kwargs.pop("version", 1), **kwargs), settings)
    return hid


class Api:
    """Calls the app as different principals."""

    def __init__(self, client: httpx.AsyncClient, data_dir: Path, app: FastAPI) -> None:
        self.client = client
        self.data_dir = data_dir
        self.app = app

    @property
    def runtime(self) -> ServiceRuntime:
        """The app's runtime (database sessions, outbox)."""
        return runtime_of(self.app)

    async def photo(self, name: str = "front", *, kelurahan: str = KEL_A) -> dict[str, str]:
        """Upload a photo (a small PNG drawn from `name`) as the kota verifikator; its reference."""
        from tests.support.images import phone_jpeg

        colour = "#" + hashlib.sha256(name.encode()).hexdigest()[:6]
        stored = await self._upload(phone_jpeg(64, 48, gps=False, color=colour), "image/jpeg", "visit_photo", kelurahan)
        return {"sha256": stored["sha256"], "media_type": stored["media_type"]}

    async def document(self, role: str, name: str = "x", *, kelurahan: str = KEL_A) -> dict[str, Any]:
        """Store the PDF behind `doc(role, name)`; that reference."""
        await self._upload(pdf(role + name), "application/pdf", "minutes" if role == "minutes" else "list", kelurahan)
        return doc(role, name)

    async def _upload(self, content: bytes, media_type: str, purpose: str, kelurahan: str) -> dict[str, Any]:
        r = await self.client.post(
            "/evidence",
            headers=self.as_("verifikator", subject="evidence-uploader"),
            data={"purpose": purpose, "kelurahan_code": kelurahan},
            files={"file": ("evidence", content, media_type)},
        )
        assert r.status_code == 201, r.text
        stored: dict[str, Any] = r.json()
        return stored

    def as_(self, role: str, wilayah: str = "13.71", subject: str | None = None) -> dict[str, str]:
        """Bearer header for a principal."""
        return auth(self.data_dir, role, wilayah, subject=subject)

    async def officer(self, subject: str, role: str, wilayah: str, **facts: Any) -> Any:
        """Register an officer as the kepala dinas (the only role that manages officer records)."""
        body = {"subject": subject, "role": role, "wilayah_code": wilayah, **facts}
        return await self.call("PUT", f"/officers/{subject}", self.as_("kepala_dinas", subject="kadis"), body)

    async def approver(self, subject: str = "verif-1") -> dict[str, str]:
        """A kota verifikator registered with their NIK and no family in the registry, so the four-eyes rule can be
        judged."""
        await self.officer(subject, "verifikator", "13.71", nik=officer_nik(subject), no_registered_family=True)
        return self.as_("verifikator", subject=subject)

    async def call(self, method: str, url: str, who: dict[str, str], body: Any = None, expect: int | None = 200) -> Any:
        """One request; asserts the status when `expect` is given and returns the JSON (or text)."""
        response = await self.client.request(method, url, headers=who, json=body)
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.text)
        if response.headers.get("content-type", "").startswith("text/csv"):
            return response.text
        return response.json() if response.content else None


def sha(text: str) -> str:
    """A content hash for document and photo references."""
    return hashlib.sha256(text.encode()).hexdigest()


def visit_body(outcome: str = "layak", reason: str | None = None, *, photo: dict[str, str]) -> dict[str, Any]:
    """A valid visit report with a stored photo (`await api.photo()`)."""
    return {
        "visited_at": utcnow().isoformat(),
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
            "assets": {"motorbike": 1},
        },
        "gps": {"lat": -0.95, "lon": 100.35},
        "photos": [photo],
        "outcome": outcome,
        "reason": reason,
    }


def pdf(name: str) -> bytes:
    """A small PDF whose bytes depend on `name`."""
    return b"%PDF-1.4\n% " + name.encode() + b"\n%%EOF\n"


def doc(role: str, name: str = "x") -> dict[str, Any]:
    """A reference to the document `api.document(role, name)` stores (its hash is that of `pdf(role + name)`)."""
    content = pdf(role + name)
    return {"role": role, "sha256": sha_bytes(content), "size_bytes": len(content), "media_type": "application/pdf"}


def sha_bytes(content: bytes) -> str:
    """SHA-256 of bytes, hex."""
    return hashlib.sha256(content).hexdigest()


NIK_LIKE = 16


def assert_pii_free(data: dict[str, Any]) -> None:
    """No 16-digit numbers (NIK / No. KK), no name or address fields in an event payload."""
    # sha256 hex digests may hold 16 digits in a row by chance: they are hashes, not identifiers.
    text = re.sub(r"\b[0-9a-f]{64}\b", "", json.dumps(data))
    digits = "".join(ch if ch.isdigit() else " " for ch in text).split()
    assert all(len(d) < NIK_LIKE for d in digits), text
    assert not {"name", "nik", "no_kk", "address", "nama", "alamat"} & {k.lower() for k in data}, data
