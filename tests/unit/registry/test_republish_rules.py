"""The plain rules of a household republish (scope, batch names, payload change), and that every consumer of the
household topic has a handler for the republished event type (a consumer without one would skip it silently)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from services.registry.republish.rules import (
    MAX_BATCH,
    MAX_FAMILY_IDS,
    Scope,
    ScopeError,
    batch_label,
    change_of,
    check_batch_size,
    covered_pattern,
    history_reason,
    missing_ids,
    scope_of,
)
from shared.events.household import HouseholdEventType
from shared.events.topics import REGISTRY_HOUSEHOLD


def test_a_scope_is_a_wilayah_code_and_an_optional_list_of_ids() -> None:
    assert scope_of("13.71") == Scope("13.71")
    assert scope_of("13.71.01.1001", [" b ", "a", "b"]) == Scope("13.71.01.1001", ("a", "b"))
    assert scope_of("13.71.01", ["x"]).describe() == {"wilayah": "13.71.01", "family_ids": 1}
    assert Scope("13.71").describe() == {"wilayah": "13.71", "family_ids": None}


@pytest.mark.parametrize(
    ("wilayah", "ids", "reason"),
    [
        ("13.71.0", None, "wilayah.invalid"),
        ("13.71.", None, "wilayah.invalid"),
        ("1371", None, "wilayah.invalid"),
        ("13.71", [], "family_ids.empty"),
        ("13.71", ["  "], "family_ids.empty"),
        ("13.71", [str(i) for i in range(MAX_FAMILY_IDS + 1)], "family_ids.too_many"),
    ],
)
def test_a_scope_that_names_nothing_is_refused(wilayah: str, ids: list[str] | None, reason: str) -> None:
    with pytest.raises(ScopeError) as refused:
        scope_of(wilayah, ids)
    assert (refused.value.field, refused.value.reason) == (reason.split(".")[0], reason)


def test_the_batch_size_is_bounded() -> None:
    assert check_batch_size(1) == 1
    assert check_batch_size(MAX_BATCH) == MAX_BATCH
    for size in (0, -1, MAX_BATCH + 1):
        with pytest.raises(ScopeError):
            check_batch_size(size)


def test_a_batch_pattern_matches_its_own_history_rows_only() -> None:
    def like(text: str, pattern: str) -> bool:
        return pattern.startswith("% ") and text.endswith(pattern[1:])

    label = batch_label("run", 1)
    assert like(history_reason(label), covered_pattern(label))
    assert not like(history_reason(batch_label("run", 11)), covered_pattern(label))
    assert not like(history_reason(batch_label("other-run", 1)), covered_pattern(batch_label("run", 1)))


def test_a_republished_event_says_what_sent_it_and_missing_ids_are_sorted() -> None:
    assert change_of("r-1") == {"type": "republished", "republish_id": "r-1"}
    assert missing_ids(["c", "a", "b"], {"b"}) == ["a", "c"]


@pytest.mark.parametrize(
    ("service", "settings"),
    [
        ("registry", "RegistrySettings"),
        ("verification", "VerificationSettings"),
        ("disbursement", "DisbursementSettings"),
    ],
)
def test_every_consumer_of_the_household_topic_applies_a_republish(service: str, settings: str, tmp_path: Path) -> None:
    app = importlib.import_module(f"services.{service}.app")
    config = getattr(importlib.import_module(f"services.{service}.settings"), settings)(data_dir=tmp_path)
    definition = app.definition(config)
    assert REGISTRY_HOUSEHOLD in definition.topics
    assert HouseholdEventType.REPUBLISHED.value in definition.handlers
