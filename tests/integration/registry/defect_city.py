"""The measures of issue 12 on a generated defect city: nobody valid lost, every planted defect queued or flagged
with the right reason, no flag on a clean family (shared by the PostgreSQL and the embedded test)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from demo.generator import DefectCity, Planted, generate_defect_city
from services.registry.families.models import family, flag, member
from services.registry.imports.models import correction, import_error
from shared.runtime.service import ServiceRuntime
from tests.integration.registry.helpers import Api
from tests.integration.registry.import_support import submit


@dataclass(frozen=True)
class DefectCityMeasures:
    """What became of a defect city's people and planted defects in the registry."""

    valid: int
    planted: int
    lost: list[tuple[str, str]]
    missed: list[Planted]
    clean_flagged: set[str]
    kinds: set[str]


async def measure_defect_city(runtime: ServiceRuntime, city: DefectCity, jobs: dict[str, str]) -> DefectCityMeasures:
    """Compare the ground truth with the registry after both extracts were imported (`jobs`: file name → job id)."""
    async with runtime.sessions() as s:
        ids = {k: i for k, i in await s.execute(select(family.c.no_kk, family.c.id))}
        people = set(
            (
                await s.execute(
                    select(family.c.no_kk, member.c.nik)
                    .join(member, member.c.family_id == family.c.id)
                    .where(member.c.active)
                )
            ).tuples()
        )
        queue = {(c.import_id, c.row_no): c.rule for c in await s.execute(select(correction))}
        flags = (await s.execute(select(flag).where(flag.c.status == "open"))).all()
        open_flags = {(f.family_id, f.kind, f.member_id, (f.detail or {}).get("other_family_id")) for f in flags}
        claims = {
            (f.family_id, f.member_id, (f.detail or {}).get("other_no_kk")) for f in flags if f.kind == "duplicate_nik"
        }
        collapsed = {
            (e.import_id, e.row_no)
            for e in await s.execute(select(import_error).where(import_error.c.reason == "no_kk.identical_copy"))
        }
        nik_members = {n: i for n, i in await s.execute(select(member.c.nik, member.c.id).where(member.c.active))}
    lost = [v for v in city.valid if v not in people]
    missed = []
    for p in city.planted:
        key = (jobs[p.file], p.row_no)
        outcome, _, what = p.expect.partition(":")
        if outcome == "queued":
            ok = queue.get(key) == what
            if p.other_no_kk is not None:
                # A family missing from the registry is a miss to count, not a reason to stop counting.
                mine, other = ids.get(p.no_kk), ids.get(p.other_no_kk)
                ok = ok and other is not None
                if mine is None:
                    # The claimant had no valid row (its head's NIK queued too): not registered, so the family that
                    # keeps the person is flagged alone, naming the claimant's No. KK.
                    ok = ok and (other, nik_members.get(p.nik), p.no_kk) in claims
                else:
                    ok = ok and (mine, "duplicate_nik", None, other) in open_flags
                    ok = ok and (other, "duplicate_nik", nik_members.get(p.nik), mine) in open_flags
        elif outcome == "flagged":
            ok = any(f[1] == what and f[2] == nik_members.get(p.nik) for f in open_flags)
        else:
            ok = key in collapsed and key not in queue
        if not ok:
            missed.append(p)
    defect_families = {ids[k] for p in city.planted for k in (p.no_kk, p.other_no_kk) if k in ids}
    return DefectCityMeasures(
        valid=len(city.valid),
        planted=len(city.planted),
        lost=lost,
        missed=missed,
        clean_flagged={f[0] for f in open_flags} - defect_families,
        kinds={p.kind for p in city.planted},
    )


async def assert_defect_city(api: Api, runtime: ServiceRuntime, out: Path, *, families: int, seed: int) -> None:
    """Import the city's two extracts and check the ground truth against the registry."""
    city = generate_defect_city(out, families_count=families, seed=seed)
    jobs = {}
    for path in (city.extract, city.second_extract):
        job = await submit(api, "/imports/extracts", path.read_text())
        assert job["status"] == "succeeded", job
        jobs[path.name] = job["id"]
    m = await measure_defect_city(runtime, city, jobs)
    assert m.lost == [], f"{len(m.lost)} valid people lost"
    assert m.missed == [], f"{len(m.missed)} of {m.planted} planted defects not handled: {m.missed[:5]}"
    assert {"short_nik", "letters_nik", "zero_serial_nik", "bad_date_nik", "bad_region_nik"} <= m.kinds
    assert m.clean_flagged == set(), f"{len(m.clean_flagged)} clean families flagged"
