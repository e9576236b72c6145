"""The composition counts declared as fields (CompositionCounts, in household_status and tahap_list) are COMPOSITION."""

from __future__ import annotations

import pytest
from sqlalchemy import Integer, Table
from sqlmodel import SQLModel

from services.disbursement.households.models import COMPOSITION, HouseholdStatus, household_status
from services.disbursement.tahap_state.models import TahapList, tahap_list


@pytest.mark.parametrize("table", [household_status, tahap_list], ids=lambda t: t.name)
def test_every_composition_count_is_a_zero_defaulted_integer_column(table: Table) -> None:
    for name in COMPOSITION:
        column = table.c[name]
        assert isinstance(column.type, Integer)
        assert column.nullable is False
        assert column.server_default is not None
        assert str(column.server_default.arg) == "0"  # type: ignore[attr-defined]


@pytest.mark.parametrize("model", [HouseholdStatus, TahapList], ids=lambda m: m.__name__)
def test_the_composition_fields_are_declared_in_composition_order(model: type[SQLModel]) -> None:
    declared = [name for name in model.model_fields if name in COMPOSITION]
    assert declared == list(COMPOSITION)
