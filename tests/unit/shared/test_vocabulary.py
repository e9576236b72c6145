"""One vocabulary across services: every rule, trigger and reason names a kind the shared event schemas define."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import ValidationError

from services.disbursement.programmes.rules import (
    DECEASED_STATUS_REASONS,
    DEFAULT_DISQUALIFYING_FLAGS,
    HOLD_REASONS,
    RuleDefinition,
)
from services.disbursement.programmes.seed import national_programmes
from services.registry.domain.flags import COMPUTED_KINDS, DEACTIVATING_KINDS
from services.registry.families.rules import InactiveReason
from services.verification.groundchecks.rules import flag_reason
from services.verification.settings import VerificationSettings
from shared.events.household import HouseholdState
from shared.events.vocabulary import FLAG_KINDS, HoldReason, StatusReason

MIGRATIONS = Path(__file__).resolve().parents[3] / "services/disbursement/migrations/versions"


def _migration(name: str) -> ModuleType:
    path = next(MIGRATIONS.glob(f"{name}_*.py"))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_disbursement_default_rule_names_only_kinds_the_registry_raises() -> None:
    assert set(DEFAULT_DISQUALIFYING_FLAGS) <= FLAG_KINDS
    assert {"income_above_umr", "electricity_non_subsidised"} <= set(DEFAULT_DISQUALIFYING_FLAGS)
    assert "deceased_dukcapil" not in DEFAULT_DISQUALIFYING_FLAGS  # one member's death does not exclude a family


def test_seeded_rules_name_only_known_kinds_and_the_rename_migration_maps_old_names_to_them() -> None:
    # The seed file is spelt as b4e1c7a9d2f3 left older databases: the rename finds nothing to do on a new one.
    for programme in national_programmes().programmes:
        assert set(programme.definition["disqualifying_flags"]) == set(DEFAULT_DISQUALIFYING_FLAGS) <= FLAG_KINDS
    rename = _migration("b4e1c7a9d2f3")
    assert not (set(rename.RENAMED) | {rename.DROPPED}) & FLAG_KINDS  # the old names the registry never raised
    assert set(rename.RENAMED.values()) <= FLAG_KINDS


def test_a_rule_naming_an_unknown_kind_is_refused() -> None:
    base = {"desil_max": 4, "amount": {"kind": "flat", "amount": 1}}
    with pytest.raises(ValidationError, match="unknown flag kind 'income_above_minimum_wage'"):
        RuleDefinition.model_validate({**base, "disqualifying_flags": ["income_above_minimum_wage"]})
    ok = RuleDefinition.model_validate({**base, "disqualifying_flags": ["recipient_deceased"]})
    assert ok.disqualifying_flags == ["recipient_deceased"]


def test_verification_triggers_name_known_kinds_and_each_has_a_check_reason() -> None:
    kinds = VerificationSettings().flag_check_kinds
    assert set(kinds) <= FLAG_KINDS
    assert "death_record_conflict" in kinds
    assert [flag_reason(k).value for k in kinds] == [f"flag_{k}" for k in kinds]
    with pytest.raises(ValidationError, match="unknown flag kinds"):
        VerificationSettings(flag_check_kinds=["deceased"])


def test_registry_kinds_and_reasons_are_the_shared_ones() -> None:
    assert set(COMPUTED_KINDS) | set(DEACTIVATING_KINDS) <= FLAG_KINDS
    statuses = {s.value for s in StatusReason}
    assert set(DEACTIVATING_KINDS.values()) <= statuses
    assert {r.value for r in InactiveReason} <= statuses
    assert set(DECEASED_STATUS_REASONS) <= statuses
    assert set(HOLD_REASONS) <= {h.value for h in HoldReason}
    assert {"member_needs_correction", "death_record_conflict", "recipient_deceased", "duplicate_nik"} <= FLAG_KINDS


def test_household_events_carry_only_known_flag_kinds() -> None:
    base = {"household_id": "h", "kecamatan_code": "13.71.01", "kelurahan_code": "13.71.01.1001"}
    state = HouseholdState.model_validate({**base, "data_status": "active", "open_flags": ["death_record_conflict"]})
    assert state.open_flags == ["death_record_conflict"]
    with pytest.raises(ValidationError, match="open_flags"):
        HouseholdState.model_validate({**base, "data_status": "active", "open_flags": ["deceased"]})
