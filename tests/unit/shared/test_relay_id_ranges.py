"""The relay's read-ahead leaves out the batch in flight as runs of consecutive ids (an int8multirange)."""

from __future__ import annotations

from shared.outbox.relay import _id_ranges


def test_consecutive_ids_become_one_range_and_gaps_start_new_ones() -> None:
    assert _id_ranges([4]) == "{[4,5)}"
    assert _id_ranges(list(range(1, 5001))) == "{[1,5001)}"
    assert _id_ranges([9, 1, 2, 3, 7, 10]) == "{[1,4),[7,8),[9,11)}"
