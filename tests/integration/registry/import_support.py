"""Building extract files and running import jobs through the API (shared by the import tests)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

from sqlalchemy import func, select

from services.registry.imports.extract import COLUMNS
from shared.runtime.service import ServiceRuntime
from tests.integration.registry.helpers import Api
from tests.support.waiting import wait_for

KEL = "13.71.01.1001"


def row(no_kk: str, nik: str, name: str, relationship: str, **over: str) -> dict[str, str]:
    """One extract row with sensible defaults."""
    values = {
        "no_kk": no_kk,
        "kelurahan_code": KEL,
        "alamat": "Jl. Nipah No. 7",
        "rt": "2",
        "rw": "5",
        "nik": nik,
        "nama": name,
        "tempat_lahir": "Padang",
        "tanggal_lahir": "",
        "jenis_kelamin": "",
        "hubungan": relationship,
        "status_kawin": "kawin" if relationship in ("kepala_keluarga", "istri", "suami") else "belum_kawin",
        "pendidikan": "SMA",
        "status_sekolah": "none",
        "pekerjaan": "Pedagang",
        "disabilitas": "none",
        "hamil": "tidak",
        "desil": "3",
        "periode_desil": "2026-Q1",
    }
    values.update(over)
    return values


def csv_text(rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> str:
    """The rows as an extract file."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


async def submit(api: Api, url: str, text: str | bytes, *, raw: bool = False) -> dict[str, Any]:
    """Upload a file (multipart, or a raw text/csv body) and wait until the job has finished."""
    data = text if isinstance(text, bytes) else text.encode()
    if raw:
        r = await api.client.post(
            url, content=data, headers={**api.headers, "Content-Type": "text/csv", "X-File-Name": "x.csv"}
        )
    else:
        r = await api.client.post(url, files={"file": ("extract.csv", data, "text/csv")}, headers=api.headers)
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    assert r.headers["Location"] == f"/imports/{job_id}"

    async def status() -> dict[str, Any]:
        data: dict[str, Any] = (await api.get(f"/imports/{job_id}")).json()
        return data

    return await wait_for(status, lambda j: j["status"] in ("succeeded", "failed"), timeout=60)


async def error_report(api: Api, job_id: str) -> list[tuple[int, str, str]]:
    """The job's error report as (row, field, reason)."""
    r = await api.get(f"/imports/{job_id}/errors")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    reader = csv.reader(io.StringIO(r.text))
    assert next(reader) == ["row", "field", "reason"]
    return [(int(a), b, c) for a, b, c in reader]


async def outbox_types(runtime: ServiceRuntime) -> Counter[str]:
    """Event types in the outbox, counted."""
    outbox = runtime.definition.messaging.outbox
    async with runtime.sessions() as s:
        rows = await s.execute(select(outbox.c.event_type, func.count()).group_by(outbox.c.event_type))
        return Counter({t: int(n) for t, n in rows})
