"""Rule versions' disqualifying flags renamed to the registry's flag kinds (shared vocabulary)

The seeded rules named `deceased`, `income_above_minimum_wage` and `non_subsidised_electricity`, kinds the
registry never raises, so those entries never matched a family. Stored definitions are rewritten in place:
they are the same rules, spelt the way the data is. `deceased` is dropped, not renamed: a family is out for a
death through its status reason (deceased/all_deceased); one member's confirmed deceased_dukcapil must not
exclude the living rest of the family.

Revision ID: b4e1c7a9d2f3
Revises: a1d17c4e9b04
Create Date: 2026-12-05 20:20:00
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b4e1c7a9d2f3"
down_revision: str | None = "a1d17c4e9b04"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = "deceased"
RENAMED = {
    "income_above_minimum_wage": "income_above_umr",
    "non_subsidised_electricity": "electricity_non_subsidised",
}

_rule = sa.table("rule_version", sa.column("id", sa.BigInteger), sa.column("definition", sa.Text))


def _rename(mapping: dict[str, str], *, drop: str | None = None) -> None:
    bind = op.get_bind()
    # A handful of rule versions per programme: read, rewrite, write back.
    for rule_id, definition in bind.execute(sa.select(_rule.c.id, _rule.c.definition)).all():
        data = json.loads(definition)
        flags = data.get("disqualifying_flags") or []
        renamed: list[str] = []
        for kind in flags:
            if kind == drop:
                continue
            new = mapping.get(kind, kind)
            if new not in renamed:
                renamed.append(new)
        if renamed != flags:
            data["disqualifying_flags"] = renamed
            bind.execute(sa.update(_rule).where(_rule.c.id == rule_id).values(definition=json.dumps(data)))


def upgrade() -> None:
    _rename(RENAMED, drop=DROPPED)


def downgrade() -> None:
    # The dropped `deceased` matched nothing; it is not put back.
    _rename({new: old for old, new in RENAMED.items()})
