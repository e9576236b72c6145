"""The same code on SQLite (embedded mode): migrations, guarded transitions, triggers and the campaign statement."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.verification.app import create_app
from services.verification.objections.service import lapse_overdue
from services.verification.settings import VerificationSettings
from shared.events.envelope import utcnow
from tests.integration.verification.helpers import KEC_A, KEL_A, Api, seed_family, visit_body
from tests.integration.verification.test_events import band_scenario, by_handlers
from tests.support.api import running


async def test_embedded_flow_on_sqlite(sqlite_settings: Any) -> None:
    settings = sqlite_settings(VerificationSettings, run_workers=False)
    app = create_app(settings)
    async with running(app) as client:
        api = Api(client, settings.data_dir, app)
        boss = await api.approver("verif-1")
        await api.officer("tksk-a", "tksk", KEC_A)
        flagged = await seed_family(api.runtime, kelurahan=KEL_A, flags=["excluded_occupation"])
        await seed_family(api.runtime, flagged, version=2, kelurahan=KEL_A, flags=["excluded_occupation"])
        page = await api.call("GET", f"/ground-checks?household_id={flagged}", boss)
        assert [(c["reason"], c["assigned_to"]) for c in page["items"]] == [("flag_excluded_occupation", "tksk-a")]

        system = api.as_("system", subject="agent")
        p = await api.call(
            "POST",
            "/proposals",
            system,
            {"kind": "desil_review", "channel": "digital_agent", "household_id": flagged},
            201,
        )
        p = await api.call("POST", f"/proposals/{p['id']}/actions/submit", system)
        assert p["status"] == "ground_check_scheduled"
        tksk = api.as_("tksk", KEC_A, subject="tksk-a")
        await api.call(
            "POST", f"/ground-checks/{p['ground_check_id']}/visit", tksk, visit_body(photo=await api.photo())
        )
        await api.call("POST", f"/ground-checks/{p['ground_check_id']}/approve", boss)
        assert (await api.call("GET", f"/proposals/{p['id']}", boss))["status"] == "eligible"
        bad = await api.call("POST", f"/ground-checks/{p['ground_check_id']}/approve", boss, expect=409)
        assert bad["current_state"] == "approved"

        others = [await seed_family(api.runtime, kelurahan=KEL_A, desil=2) for _ in range(4)]
        body = {"name": "embedded", "kecamatan_codes": [KEC_A], "not_verified_months": 6}
        c = await api.call("POST", "/campaigns", boss, body, expect=201)
        # flagged was verified just now (skipped); the four others get a check each.
        assert c["created_checks"] == len(others)
        assert (await api.call("POST", "/campaigns", boss, body, expect=201))["created_checks"] == 0
        progress = await api.call("GET", f"/campaigns/{c['id']}/progress", boss)
        assert progress["by_kecamatan"] == {KEC_A: {"assigned": 4}}

        operator = api.as_("operator_kelurahan", KEL_A, subject="op")
        objection = {
            "household_id": others[0],
            "objector_kelurahan_code": KEL_A,
            "grounds": "moved",
            "photo": await api.photo("moved away"),
            "gps": {"lat": -0.9, "lon": 100.3},
        }
        await api.call("POST", "/objections", operator, objection, expect=201)
        rt = api.runtime
        for expected in (1, 0):
            async with rt.sessions() as session, session.begin():
                assert await lapse_overdue(session, outbox=rt.outbox, now=utcnow() + timedelta(days=15)) == expected


async def test_programme_bands_decide_desil_checks_on_sqlite(sqlite_settings: Any) -> None:
    settings = sqlite_settings(VerificationSettings, run_workers=False)
    app = create_app(settings)
    async with running(app) as client:
        rt = Api(client, settings.data_dir, app).runtime
        await band_scenario(rt, by_handlers(rt))
