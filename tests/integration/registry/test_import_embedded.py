"""The import in embedded mode (SQLite, in-process bus): the same pipeline, executemany instead of COPY."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from demo.generator import generate_city
from services.registry.app import create_app
from services.registry.families.models import family, flag, member
from services.registry.settings import RegistrySettings
from shared.auth.principal import Role
from shared.bus.local import LocalBus
from tests.integration.registry.helpers import Api
from tests.integration.registry.import_support import outbox_types, submit
from tests.integration.registry.test_import_lists import assert_consistent_with_single_writes
from tests.support.api import running


async def test_embedded_import(sqlite_settings: Any, tmp_path: Path) -> None:
    stats = generate_city(tmp_path / "city", families_count=120, seed=5)
    settings = sqlite_settings(RegistrySettings, run_workers=False)
    app = create_app(settings, bus=LocalBus())
    async with running(app) as client:
        runtime = app.state.runtime
        api = Api(client, settings.data_dir, Role.VERIFIKATOR)
        extract = (tmp_path / "city" / "extract.csv").read_text()
        job = await submit(api, "/imports/extracts", extract)
        assert job["status"] == "succeeded", job
        c = job["counts"]
        assert c["rows_read"] == stats.members
        assert c["members_inserted"] == stats.members - c["rows_rejected"]
        async with runtime.sessions() as s:
            families = int((await s.execute(select(func.count()).select_from(family))).scalar_one())
        assert families == c["families_inserted"] > 100
        await assert_consistent_with_single_writes(runtime)
        before = await outbox_types(runtime)
        again = await submit(api, "/imports/extracts", extract, raw=True)
        assert (again["counts"]["events_emitted"], again["counts"]["families_unchanged"]) == (0, families)
        assert await outbox_types(runtime) == before
        death = await submit(api, "/imports/lists/death", (tmp_path / "city" / "death_list.csv").read_text())
        assert death["status"] == "succeeded", death
        assert death["counts"]["flags_raised"] == death["counts"]["matched"] > 0
        await assert_consistent_with_single_writes(runtime)
        # Entries contradicting the register are conflicts on SQLite too (dates in SQL, names normalised).
        dead = {line.split(",")[0] for line in (tmp_path / "city" / "death_list.csv").read_text().splitlines()}
        async with runtime.sessions() as s:
            alive = (
                await s.execute(
                    select(member.c.nik, member.c.name, member.c.birth_date)
                    .where(member.c.active, member.c.nik.not_in(dead), func.length(member.c.nik) == 16)
                    .order_by(member.c.nik)
                    .limit(4)
                )
            ).all()
        a, b, c3, d = alive
        listed = (
            "nik,tanggal_meninggal,no_akta_kematian,nama\n"
            f"{a.nik},{(a.birth_date - timedelta(days=1)).isoformat()},X1,{a.name}\n"
            f"{b.nik},2999-01-01,X2,{b.name}\n"
            f"{c3.nik},2025-01-01,X3,Someone Else Entirely\n"
            f"{d.nik},2025-01-01,X4,alm. {d.name.upper()}\n"
        )
        job = await submit(api, "/imports/lists/death", listed)
        assert (job["counts"]["flags_raised"], job["counts"]["conflicts"]) == (4, 3)
        async with runtime.sessions() as s:
            kinds = dict(
                (
                    await s.execute(
                        select(member.c.nik, flag.c.kind)
                        .join(member, member.c.id == flag.c.member_id)
                        .where(member.c.nik.in_([a.nik, b.nik, c3.nik, d.nik]), flag.c.status == "open")
                    )
                ).all()
            )
        assert kinds == {
            a.nik: "death_record_conflict",
            b.nik: "death_record_conflict",
            c3.nik: "death_record_conflict",
            d.nik: "deceased_dukcapil",
        }
        await assert_consistent_with_single_writes(runtime)
