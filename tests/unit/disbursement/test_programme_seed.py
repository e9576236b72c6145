"""The seeded national programmes (national_programmes.json) are valid rule definitions in today's vocabulary."""

from __future__ import annotations

from services.disbursement.programmes.rules import RuleDefinition
from services.disbursement.programmes.seed import national_programmes


def test_every_seeded_rule_is_a_valid_definition() -> None:
    seed = national_programmes()
    codes = [p.code for p in seed.programmes]
    assert codes == ["PKH", "SEMBAKO", "PBI_JK", "BLT_KESRA"]
    for programme in seed.programmes:
        definition = RuleDefinition.model_validate(programme.definition)
        assert definition.desil_min == 1
        assert programme.effective_to is None or programme.effective_to > programme.effective_from


def test_the_bands_people_ask_about() -> None:
    bands = {p.code: (p.definition["desil_min"], p.definition["desil_max"]) for p in national_programmes().programmes}
    assert bands == {"PKH": (1, 4), "SEMBAKO": (1, 4), "PBI_JK": (1, 5), "BLT_KESRA": (1, 4)}
