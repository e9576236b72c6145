"""The national programmes and their first rule versions, read from `national_programmes.json` (data, not code:
the answer to "which desil band does PKH use?" is readable there). The disbursement migration seeds them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any

SEED_FILE = "national_programmes.json"


@dataclass(frozen=True)
class SeedProgramme:
    """One national programme and the definition of its first rule version (JSON as stored in rule_version)."""

    code: str
    name: str
    unit: str
    periodicity: str
    channel: str
    effective_from: date
    effective_to: date | None
    definition: dict[str, Any]


@dataclass(frozen=True)
class Seed:
    """The seed file: when the rows count as created, their funding and note, and the programmes."""

    seeded_at: datetime
    funding: str
    note: str
    programmes: tuple[SeedProgramme, ...]


@cache
def national_programmes() -> Seed:
    """The packaged seed file, parsed."""
    raw = json.loads(resources.files("services.disbursement.programmes").joinpath(SEED_FILE).read_text("utf-8"))
    return Seed(
        seeded_at=datetime.fromisoformat(raw["seeded_at"]),
        funding=raw["funding"],
        note=raw["note"],
        programmes=tuple(
            SeedProgramme(
                code=p["code"],
                name=p["name"],
                unit=p["unit"],
                periodicity=p["periodicity"],
                channel=p["channel"],
                effective_from=date.fromisoformat(p["rule"]["effective_from"]),
                effective_to=date.fromisoformat(p["rule"]["effective_to"]) if p["rule"]["effective_to"] else None,
                definition=p["rule"]["definition"],
            )
            for p in raw["programmes"]
        ),
    )
