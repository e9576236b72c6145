"""Plain rules of a household republish: which families it covers, how its batches are named, what its events say."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shared.http.params import WILAYAH_FILTER

ACTION = "republished"  # the history action and the `change.type` of the events
DEFAULT_BATCH = 5_000  # families a transaction: a few seconds of row locks, flat memory at a city's 250k
MAX_BATCH = 50_000
MAX_FAMILY_IDS = 10_000  # a list longer than this is a wilayah's worth: narrow by wilayah instead


class ScopeError(ValueError):
    """A republish scope that names no valid set of families: the field at fault and the broken rule's code."""

    def __init__(self, field: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Scope:
    """The families of wilayah `wilayah` (a kota, kecamatan or kelurahan code) and, if `family_ids` is given,
    only those of them."""

    wilayah: str
    family_ids: tuple[str, ...] | None = None

    def describe(self) -> dict[str, Any]:
        """The scope as the audit entries record it (the families are named by the history rows they cover)."""
        return {"wilayah": self.wilayah, "family_ids": None if self.family_ids is None else len(self.family_ids)}


def scope_of(wilayah: str, family_ids: Iterable[str] | None = None) -> Scope:
    """A checked scope: a well-formed wilayah code, the ids stripped, without repeats, sorted, at most
    MAX_FAMILY_IDS of them and at least one when a list is given (an empty list would republish nothing)."""
    if not re.fullmatch(WILAYAH_FILTER, wilayah):
        raise ScopeError(
            "wilayah",
            "wilayah.invalid",
            f"{wilayah!r} is not a kota, kecamatan or kelurahan code (e.g. 13.71, 13.71.01)",
        )
    if family_ids is None:
        return Scope(wilayah)
    ids = tuple(sorted({i.strip() for i in family_ids if i.strip()}))
    if not ids:
        raise ScopeError("family_ids", "family_ids.empty", "the list of family ids is empty")
    if len(ids) > MAX_FAMILY_IDS:
        raise ScopeError(
            "family_ids", "family_ids.too_many", f"at most {MAX_FAMILY_IDS} family ids at a time (narrow by wilayah)"
        )
    return Scope(wilayah, ids)


def check_batch_size(size: int) -> int:
    """The batch size, if it lies within 1..MAX_BATCH."""
    if not 1 <= size <= MAX_BATCH:
        raise ScopeError("batch_size", "batch_size.out_of_range", f"the batch size must lie within 1..{MAX_BATCH}")
    return size


def batch_label(run_id: str, batch: int) -> str:
    """The name of one batch of a run: its history rows' reason ends with it, its audit entry covers them by it."""
    return f"{run_id}-{batch}"


def history_reason(label: str) -> str:
    """The reason of a batch's history rows."""
    return f"household republish {label}"


def covered_pattern(label: str) -> str:
    """The LIKE pattern of a batch's history rows (`-1` never matches the rows of `-11`: the label ends the text)."""
    return f"% {label}"


def change_of(run_id: str) -> dict[str, str]:
    """The `change` of a republished event: nothing changed, this run sent the state again."""
    return {"type": ACTION, "republish_id": run_id}


def missing_ids(requested: Iterable[str], found: Iterable[str]) -> list[str]:
    """The requested family ids that are not in the scope (unknown, or in another wilayah), sorted."""
    return sorted(set(requested) - set(found))
