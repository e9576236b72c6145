"""The correction queue through the public API on PostgreSQL: listed per wilayah, fixed (validated like an import
row), dismissed with a reason; audit entries, history and household events written; the family's
member_needs_correction flag cleared once its queue is settled."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from services.registry.families.models import family, family_history, flag, member
from shared.auth.principal import Role
from tests.integration.registry.conftest import Registry
from tests.integration.registry.helpers import kk, nik
from tests.integration.registry.import_support import csv_text, row, submit

pytestmark = pytest.mark.infra

HEAD, CHILD = "kepala_keluarga", "anak"
TIMUR = "13.71.02.1001"  # Sawahan, Padang Timur


def city() -> str:
    return csv_text(
        [
            row(kk(1), nik(1), "Budi", HEAD),  # 2
            row(kk(1), "13710110032200", "Adi", CHILD),  # 3: 14 digits
            row(kk(1), nik(3, day="11", month="04", yy="15"), "Eka", CHILD, status_sekolah="kuliah"),  # 4
            row(kk(2), nik(4, region="137102"), "Dedi", HEAD, kelurahan_code=TIMUR),  # 5
            row(kk(2), "1371021A04150005", "Rina", CHILD, kelurahan_code=TIMUR),  # 6: a letter
        ]
    )


async def test_queue_is_scoped_fixed_and_dismissed_through_the_api(registry: Registry) -> None:
    verifikator = registry.as_(Role.VERIFIKATOR)
    job = await submit(verifikator, "/imports/extracts", city())
    assert job["counts"]["rows_queued"] == 3

    selatan = registry.as_(Role.TKSK, "13.71.01")
    timur = registry.as_(Role.TKSK, "13.71.02")
    mine = (await selatan.get("/corrections")).json()
    assert [(e["row_no"], e["rule"]) for e in mine["items"]] == [
        (3, "nik.not_16_digits"),
        (4, "status_sekolah.unknown"),
    ]
    assert mine["items"][0]["raw"]["nik"] == "13710110032200"  # a TKSK may read identifiers
    theirs = (await timur.get("/corrections")).json()["items"]
    assert [(e["row_no"], e["kecamatan_code"]) for e in theirs] == [(6, "13.71.02")]
    # A role without identifier rights sees them masked.
    operator = registry.as_(Role.OPERATOR_KELURAHAN, "13.71.02.1001")
    (masked,) = (await operator.get("/corrections")).json()["items"]
    assert masked["raw"]["nik"] == "1371••••••••0005"
    assert masked["raw"]["nama"] == "Rina"
    assert (await registry.as_(Role.LURAH, "13.71.01.1001").get("/corrections")).status_code == 403
    first, second = mine["items"]
    # Outside the caller's wilayah the entry does not exist.
    assert (await timur.post(f"/corrections/{first['id']}/dismiss", {"reason": "not mine"})).status_code == 404

    still_bad = await selatan.post(f"/corrections/{first['id']}/fix", {"values": {"nik": "1371011003220"}})
    assert still_bad.status_code == 422
    assert still_bad.headers["content-type"].startswith("application/problem+json")
    assert [(e["field"], e["reason"]) for e in still_bad.json()["errors"]] == [("nik", "nik.not_16_digits")]
    unknown = await selatan.post(f"/corrections/{first['id']}/fix", {"values": {"umur": "3"}})
    assert unknown.status_code == 422

    fixed = await selatan.post(
        f"/corrections/{first['id']}/fix", {"values": {"nik": "1371011003220003"}, "reason": "KK checked at home"}
    )
    assert fixed.status_code == 200, fixed.text
    assert (fixed.json()["status"], fixed.json()["resolved_by"]) == ("fixed", "tksk-13.71.01")
    again = await selatan.post(f"/corrections/{first['id']}/dismiss", {"reason": "twice"})
    assert again.status_code == 409

    async with registry.runtime.sessions() as s:
        fid = (await s.execute(select(family.c.id).where(family.c.no_kk == kk(1)))).scalar_one()
        adi = (await s.execute(select(member).where(member.c.nik == "1371011003220003"))).mappings().one()
        assert (adi["family_id"], adi["name"], adi["source"]) == (fid, "Adi", "import_correction")
        assert fixed.json()["member_id"] == adi["id"]
        needs = (
            await s.execute(
                select(flag.c.status).where(flag.c.family_id == fid, flag.c.kind == "member_needs_correction")
            )
        ).scalar_one()
        assert needs == "open"  # row 4 still waits

    dismissed = await selatan.post(f"/corrections/{second['id']}/dismiss", {"reason": "Eka moved to Bukittinggi"})
    assert dismissed.status_code == 200, dismissed.text
    assert (dismissed.json()["status"], dismissed.json()["resolution_reason"]) == (
        "dismissed",
        "Eka moved to Bukittinggi",
    )
    assert (await selatan.post(f"/corrections/{second['id']}/dismiss", {"reason": "x"})).status_code == 422
    assert [e["id"] for e in (await selatan.get("/corrections", params={"status": "dismissed"})).json()["items"]] == [
        second["id"]
    ]
    assert (await selatan.get("/corrections")).json()["items"] == []

    outbox = registry.runtime.definition.messaging.outbox
    async with registry.runtime.sessions() as s:
        needs = (
            await s.execute(
                select(flag.c.status).where(flag.c.family_id == fid, flag.c.kind == "member_needs_correction")
            )
        ).scalar_one()
        assert needs == "cleared"
        status = (await s.execute(select(family.c.data_status).where(family.c.id == fid))).scalar_one()
        assert status == "active"  # nothing else open: the hold is lifted
        history = [
            (h.action, h.actor)
            for h in await s.execute(
                select(family_history.c.action, family_history.c.actor)
                .where(family_history.c.family_id == fid)
                .order_by(family_history.c.id)
            )
        ]
        assert history[-5:] == [
            ("member_added", "tksk-13.71.01"),
            ("correction_fixed", "tksk-13.71.01"),
            ("correction_dismissed", "tksk-13.71.01"),
            ("flag_cleared", "tksk-13.71.01"),
            ("status_changed", "tksk-13.71.01"),
        ]
        events = [
            (e.event_type, json.loads(e.data)["change"].get("type"))
            for e in await s.execute(
                select(outbox.c.event_type, outbox.c.data).where(outbox.c.subject == fid).order_by(outbox.c.id)
            )
        ]
        assert ("household.member_added", "member_added") in events
        assert ("household.flag_resolved", "flag_cleared") in events
        assert events[-1] == ("household.status_changed", "status_changed")

    auditor = registry.as_(Role.AUDITOR)
    entries = (await auditor.get("/audit")).json()["entries"]
    noted = [e for e in entries if e["record_type"] == "correction"]
    assert [(e["action"], e["record_id"], e["actor"]) for e in noted] == [
        ("POST /corrections/{entry_id}/fix (correction_fixed)", str(first["id"]), "tksk-13.71.01"),
        ("POST /corrections/{entry_id}/dismiss (correction_dismissed)", str(second["id"]), "tksk-13.71.01"),
    ]
    assert "Eka moved to Bukittinggi" in noted[1]["after"]
