"""Payer reports and the two-quarter files of the scenario generator."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from demo.generator import PAYER_REPORT_COLUMNS, payer_reports, write_quarters
from shared.events.payment import PaymentFailureReason

LINES = [{"line_id": i, "household_id": f"hh-{i}", "amount": 600_000} for i in range(1, 2001)]


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_reports_are_deterministic_and_cover_every_line_once() -> None:
    a = payer_reports(LINES, seed=3, paid_on=date(2026, 3, 25))
    b = payer_reports(list(reversed(LINES)), seed=3, paid_on=date(2026, 3, 25))
    assert (a.bank_csv, a.pos_csv) == (b.bank_csv, b.pos_csv)
    assert payer_reports(LINES, seed=4, paid_on=date(2026, 3, 25)).bank_csv != a.bank_csv
    rows = _rows(a.bank_csv) + _rows(a.pos_csv)
    assert a.bank_csv.splitlines()[0] == ",".join(PAYER_REPORT_COLUMNS)
    ids = [int(r["line_id"]) for r in rows]
    assert len(ids) == len(set(ids)) == len(LINES) - a.counts().get("silent", 0)
    assert sum(a.counts().values()) == len(LINES)


def test_outcomes_are_realistic() -> None:
    r = payer_reports(LINES, seed=3, paid_on=date(2026, 3, 25))
    counts = r.counts()
    assert 0.80 < counts["paid"] / len(LINES) < 0.92
    assert {"account_problem", "not_found", "deceased_without_heir", "not_collected", "mismatch"} <= set(counts)
    bank, pos = _rows(r.bank_csv), _rows(r.pos_csv)
    assert 0.15 < len(pos) / (len(bank) + len(pos)) < 0.35
    reasons = {x["failure_reason"] for x in bank + pos if x["status"] == "failed"}
    assert reasons <= {f.value for f in PaymentFailureReason}
    assert "not_collected" not in {x["failure_reason"] for x in bank}  # only Pos cash can go uncollected
    wrong = [x for x in bank + pos if x["status"] == "paid" and int(x["amount"]) != 600_000]
    assert len(wrong) == counts["mismatch"]


def test_outcomes_follow_the_stable_key_not_the_database_id() -> None:
    keys = {f"hh-{i}": f"kk-{i}" for i in range(1, 2001)}
    other_ids = [{"line_id": x["line_id"], "household_id": f"other-{x['line_id']}", "amount": 600_000} for x in LINES]
    other_keys = {f"other-{i}": f"kk-{i}" for i in range(1, 2001)}
    a = payer_reports(LINES, seed=3, paid_on=date(2026, 3, 25), keys=keys)
    b = payer_reports(other_ids, seed=3, paid_on=date(2026, 3, 25), keys=other_keys)
    assert a.outcome_by_line == b.outcome_by_line


def test_two_quarters(tmp_path: Path) -> None:
    q = write_quarters(tmp_path, families_count=400, seed=5)
    assert q.periods == ("2026-Q1", "2026-Q2")
    assert q.families[1] == 400
    assert q.families[0] == 400 - len(q.new_in_second) < 400
    assert not q.deceased[0] & q.deceased[1]
    assert q.deceased[0]
    assert q.deceased[1]
    assert q.excluded
    first = q.extract[0].read_text().splitlines()
    assert all(line.endswith("2026-Q1") for line in first[1:])
    again = write_quarters(tmp_path / "again", families_count=400, seed=5)
    for x, y in zip(
        (*q.extract, *q.death_list, q.excluded_list),
        (*again.extract, *again.death_list, again.excluded_list),
        strict=True,
    ):
        assert x.read_bytes() == y.read_bytes()
    late = _rows(q.death_list[1].read_text())
    assert all("2026-04-01" <= r["tanggal_meninggal"] <= "2026-06-30" for r in late)
