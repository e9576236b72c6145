"""Plain rules that check a death-list entry against the registered member before anyone is marked dead."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from enum import StrEnum

# Titles and honorifics written before or after a name on a KTP, KK or death certificate (Minang, Islamic,
# academic); they say nothing about who the person is.
_TITLES = frozenset(
    {
        "alm", "almh", "almarhum", "almarhumah", "bapak", "bpk", "pak", "ibu", "bu", "sdr", "sdri", "tn", "ny",
        "nn", "h", "hj", "haji", "hajjah", "dr", "drs", "dra", "ir", "prof", "st", "sh", "se", "spd", "skm",
        "amd", "ssos", "mpd", "mm", "dt", "datuak", "datuk", "buya", "ustadz", "ustad",
    }
)  # fmt: skip
_NOT_LETTER = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r"\s+")


class DeathConflict(StrEnum):
    """Why a death-list entry cannot simply mark the member dead (detail of a death_record_conflict flag)."""

    BEFORE_BIRTH = "death_before_birth"
    FUTURE = "death_in_future"
    NAME_MISMATCH = "name_mismatch"


def normalise_name(name: str) -> str:
    """A name compared without case, accents, punctuation, spacing or titles ("Hj. Siti  Aminah, S.Pd" →
    "siti aminah")."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    # "S.Pd" and "H." are titles once their dots go; "Nur'aini" is one word, "Siti-Aminah" two.
    text = text.replace(".", "").replace("'", "").replace("`", "")
    words = _SPACES.sub(" ", _NOT_LETTER.sub(" ", text)).split()
    return " ".join(w for w in words if w not in _TITLES)


def names_match(listed: str, registered: str) -> bool:
    """Does the name on a list name the registered member (normalised, equal)?"""
    return normalise_name(listed) == normalise_name(registered)


def death_conflicts(
    *, died: date, born: date | None, listed_name: str | None, registered_name: str, today: date
) -> list[DeathConflict]:
    """What is wrong with a death-list entry for this member; empty when it can be flagged as a death."""
    found: list[DeathConflict] = []
    if born is not None and died < born:
        found.append(DeathConflict.BEFORE_BIRTH)
    if died > today:
        found.append(DeathConflict.FUTURE)
    if listed_name and not names_match(listed_name, registered_name):
        found.append(DeathConflict.NAME_MISMATCH)
    return found
