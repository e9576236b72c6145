"""Death-list entries checked against the registered member: dates and normalised names."""

from __future__ import annotations

from datetime import date

import pytest

from services.registry.imports.list_rules import DeathConflict, death_conflicts, names_match, normalise_name

TODAY = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("SITI AMINAH", "siti aminah"),
        ("  Siti   Aminah ", "siti aminah"),
        ("Hj. Siti Aminah, S.Pd", "siti aminah"),
        ("Alm. H. Muhammad Yusuf", "muhammad yusuf"),
        ("Nur'aini", "nuraini"),
        ("Siti-Aminah", "siti aminah"),
        ("Zulkifli Dt. Rajo Ameh", "zulkifli rajo ameh"),
        ("Désy Ratnasari", "desy ratnasari"),
    ],
)
def test_normalise_name(raw: str, normalised: str) -> None:
    assert normalise_name(raw) == normalised


def test_names_match_ignores_form_but_not_the_person() -> None:
    assert names_match("ALMH. HJ. ROSMANIAR", "Rosmaniar")
    assert not names_match("Rosmaniar", "Rosmawati")
    assert not names_match("Siti Aminah", "Aminah")


def test_death_conflicts() -> None:
    born = date(1960, 5, 1)
    ok = death_conflicts(died=date(2025, 1, 2), born=born, listed_name="Siti", registered_name="SITI", today=TODAY)
    assert ok == []
    assert death_conflicts(died=date(1959, 1, 1), born=born, listed_name=None, registered_name="x", today=TODAY) == [
        DeathConflict.BEFORE_BIRTH
    ]
    assert death_conflicts(died=date(2026, 3, 2), born=None, listed_name=None, registered_name="x", today=TODAY) == [
        DeathConflict.FUTURE
    ]
    assert death_conflicts(
        died=date(2025, 1, 1), born=born, listed_name="Budi", registered_name="Siti", today=TODAY
    ) == [DeathConflict.NAME_MISMATCH]
    # No name on the list (the three-column format): nothing to compare, no conflict.
    assert death_conflicts(died=date(2025, 1, 1), born=None, listed_name="", registered_name="Siti", today=TODAY) == []
